variable "project_id" {
  description = "Project that hosts the job."
  type        = string
}

variable "region" {
  description = "Cloud Run region."
  type        = string
}

variable "name" {
  description = "Job name, such as migrate-main."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,47}[a-z0-9]$", var.name))
    error_message = "name must be 2-49 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "image" {
  description = "Image of the service that owns the database's schema, at the tag being deployed (its alembic migrations travel with it)."
  type        = string
}

variable "command" {
  description = "Command and arguments that bring the schema up to date."
  type        = list(string)
  default     = ["alembic", "upgrade", "head"]
}

variable "service_account_email" {
  description = "Account the job runs as: the owning service's own account, which already reads exactly the secrets mounted here."
  type        = string
}

variable "env" {
  description = "Plain environment variables; never secret values."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.env) : endswith(k, "_FILE") || !can(regex("(?i)(^|_)(SECRET|PASSWORD|PASSWD|TOKEN|KEY|CREDENTIALS?|AUTH|AUTH_STRING|DATABASE_URL|DSN)$", k))])
    error_message = "env must not carry secrets: mount them with the secrets variable and read the file named by NAME_FILE."
  }
}

variable "secrets" {
  description = "Secrets mounted as files, exactly as the owning service mounts them: mount name => secret id (/secrets/<name>/value)."
  type        = map(string)
  default     = {}
}

variable "secret_version" {
  description = "Version of every mounted secret."
  type        = string
  default     = "latest"
}

variable "vpc_access" {
  description = "Direct VPC egress, as for the owning service. Null for none."
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

variable "cpu" {
  description = "CPU limit of the task."
  type        = string
  default     = "1"
}

variable "memory" {
  description = "Memory limit of the task."
  type        = string
  default     = "512Mi"
}

variable "timeout" {
  description = "Longest one migration run may take."
  type        = string
  default     = "900s"
}

variable "deletion_protection" {
  description = "Refuse to destroy the job."
  type        = bool
}

variable "labels" {
  description = "Labels added to the job."
  type        = map(string)
  default     = {}
}
