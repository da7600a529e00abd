variable "project_id" {
  description = "Project that hosts the service."
  type        = string
}

variable "region" {
  description = "Cloud Run region."
  type        = string
}

variable "name" {
  description = "Cloud Run service name; the catalog key in services.yaml."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,47}[a-z0-9]$", var.name))
    error_message = "name must be 2-49 lowercase letters, digits or hyphens, starting with a letter (a Cloud Run service name)."
  }
}

variable "image" {
  description = "Full container image reference, including the tag."
  type        = string
}

variable "port" {
  description = "Port the container listens on."
  type        = number

  validation {
    condition     = var.port >= 1 && var.port <= 65535
    error_message = "port must be between 1 and 65535."
  }
}

variable "ingress" {
  description = "Who may reach the service over the network: INGRESS_TRAFFIC_ALL for the public gateway, INGRESS_TRAFFIC_INTERNAL_ONLY for mesh services."
  type        = string

  validation {
    condition     = contains(["INGRESS_TRAFFIC_ALL", "INGRESS_TRAFFIC_INTERNAL_ONLY", "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"], var.ingress)
    error_message = "ingress must be INGRESS_TRAFFIC_ALL, INGRESS_TRAFFIC_INTERNAL_ONLY or INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER."
  }
}

variable "invokers" {
  description = "Callers granted roles/run.invoker on this service, one additive grant each: key = a name known at plan time (such as gateway or public), value = the IAM member (serviceAccount:... or allUsers)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for m in values(var.invokers) : can(regex("^(allUsers|serviceAccount:.+|user:.+|group:.+|principal.+)$", m))])
    error_message = "each invoker must be allUsers or an IAM member such as serviceAccount:NAME@PROJECT.iam.gserviceaccount.com."
  }
}

variable "min_instances" {
  description = "Instances kept warm; at least 1 for anything on the login path."
  type        = number
  default     = 0

  validation {
    condition     = var.min_instances >= 0
    error_message = "min_instances must be 0 or more."
  }
}

variable "max_instances" {
  description = "Upper bound on instances; caps cost and the number of subnet addresses Direct VPC egress reserves."
  type        = number

  validation {
    condition     = var.max_instances >= 1
    error_message = "max_instances must be 1 or more."
  }
}

variable "cpu" {
  description = "CPU limit per instance, such as \"1\"."
  type        = string
}

variable "memory" {
  description = "Memory limit per instance, such as 512Mi."
  type        = string

  validation {
    condition     = can(regex("^[0-9]+(Mi|Gi)$", var.memory))
    error_message = "memory must be a size such as 512Mi or 1Gi."
  }
}

variable "concurrency" {
  description = "Requests one instance serves at once."
  type        = number
  default     = 80
}

variable "request_timeout" {
  description = "Longest a request may take, as a duration such as 60s."
  type        = string
  default     = "60s"
}

variable "health_path" {
  description = "HTTP path of the health endpoint used by the startup and liveness probes."
  type        = string

  validation {
    condition     = startswith(var.health_path, "/")
    error_message = "health_path must start with /."
  }
}

variable "startup_cpu_boost" {
  description = "Give instances extra CPU while they start, to shorten cold starts."
  type        = bool
  default     = true
}

variable "cpu_idle" {
  description = "Throttle CPU outside requests (request-based billing); false keeps CPU always allocated."
  type        = bool
  default     = true
}

variable "env" {
  description = "Plain environment variables. Never secret values: secrets are mounted as files (see secrets)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.env) : endswith(k, "_FILE") || !can(regex("(?i)(^|_)(SECRET|PASSWORD|PASSWD|TOKEN|KEY|CREDENTIALS?|AUTH|AUTH_STRING|DATABASE_URL|DSN)$", k))])
    error_message = "env must not carry secrets: mount them with the secrets variable and point the application at the file with a NAME_FILE variable."
  }
}

variable "secrets" {
  description = "Secret Manager secrets mounted as files: key = mount name (the file is /secrets/<key>/value), value = secret id in this project."
  type        = map(string)
  default     = {}
}

variable "secret_version" {
  description = "Version of every mounted secret; \"latest\" picks up a rotation on the next revision."
  type        = string
  default     = "latest"
}

variable "vpc_access" {
  description = "Direct VPC egress: the network and subnetwork to send traffic into, and which traffic (PRIVATE_RANGES_ONLY or ALL_TRAFFIC). Null for none."
  type = object({
    network    = string
    subnetwork = string
    egress     = string
  })
  default = null

  validation {
    condition     = var.vpc_access == null || contains(["PRIVATE_RANGES_ONLY", "ALL_TRAFFIC"], try(var.vpc_access.egress, ""))
    error_message = "vpc_access.egress must be PRIVATE_RANGES_ONLY or ALL_TRAFFIC."
  }
}

variable "service_account_roles" {
  description = "Project roles for the service's own account. Keep to what the runtime needs; never owner, editor or a project-wide secretAccessor."
  type        = list(string)
  default     = ["roles/logging.logWriter", "roles/monitoring.metricWriter"]

  validation {
    condition     = length(setintersection(var.service_account_roles, ["roles/owner", "roles/editor", "roles/secretmanager.secretAccessor"])) == 0
    error_message = "service_account_roles must not include roles/owner, roles/editor or roles/secretmanager.secretAccessor (grant secrets per secret instead)."
  }
}

variable "deletion_protection" {
  description = "Refuse to destroy the service; set false and apply before a deliberate removal."
  type        = bool
}

variable "labels" {
  description = "Labels added to the service."
  type        = map(string)
  default     = {}
}
