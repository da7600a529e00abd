# project_id, region and image_tag come from the deploy's command line; everything else is in
# production.tfvars (see production.tfvars.example, which documents each one).

variable "project_id" {
  description = "Google Cloud project id that hosts production."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a project id (6-30 lowercase letters, digits or hyphens), not a display name."
  }
}

variable "region" {
  description = "Region of Cloud Run, Memorystore, Artifact Registry and the subnet."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region must be a Google Cloud region such as us-central1."
  }
}

variable "image_tag" {
  description = "Tag of every service image to run: a release tag (v1.4.0) or a commit SHA."
  type        = string

  validation {
    condition     = can(regex("^(v[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?|[0-9a-f]{7,40})$", var.image_tag))
    error_message = "image_tag must be a release tag such as v1.4.0 or a commit SHA; never latest."
  }
}

variable "git_commit" {
  description = "Commit the deploy runs from (the deploy passes it); labels every service. Empty when applied by hand."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^([0-9a-f]{7,40})?$", var.git_commit))
    error_message = "git_commit must be a commit SHA (git rev-parse HEAD) or empty."
  }
}

variable "client_internal_id_mode" {
  description = "What the gateway does with an identity header a client sends: ignore (drop, log, count) or reject (400). The deploy keeps the mode production runs (TF_VAR_client_internal_id_mode from the state's output); make production-cutover changes it."
  type        = string
  default     = "ignore"

  validation {
    condition     = contains(["ignore", "reject"], var.client_internal_id_mode)
    error_message = "client_internal_id_mode must be ignore or reject."
  }
}

variable "trace_sample_ratio" {
  description = "Share of gateway requests traced that Cloud Run did not sample itself (0 to 1); those Cloud Run sampled are always traced. Spans beyond Cloud Trace's free 2.5 million a month cost 0.20 USD per million."
  type        = number
  default     = 0.1

  validation {
    condition     = var.trace_sample_ratio >= 0 && var.trace_sample_ratio <= 1
    error_message = "trace_sample_ratio must be between 0 and 1."
  }
}

variable "supabase_url" {
  description = "URL of the production Supabase project; the gateway fetches its signing keys from it."
  type        = string

  validation {
    condition     = can(regex("^https://[a-z0-9]+\\.supabase\\.co$", var.supabase_url))
    error_message = "supabase_url must be https://<project-ref>.supabase.co with no trailing slash."
  }
}

variable "alert_email" {
  description = "Address that receives alerts and budget notifications."
  type        = string
}

variable "billing_account_id" {
  description = "Billing account of the project, for the budget."
  type        = string
}

variable "monthly_budget_usd" {
  description = "Monthly budget in US dollars; notifications at 50, 75, 90 and 100%."
  type        = number
  default     = 100
}

variable "github_repository" {
  description = "GitHub repository (owner/name) whose production deploys may use the deployer account."
  type        = string
}

variable "github_repository_id" {
  description = "Numeric id of github_repository (gh api repos/OWNER/NAME --jq .id); the identity pool admits its tokens only."
  type        = string
}

variable "github_repository_owner_id" {
  description = "Numeric id of github_repository's owner (gh api repos/OWNER/NAME --jq .owner.id)."
  type        = string
}

variable "github_environment" {
  description = "GitHub environment a deploy job must run in."
  type        = string
  default     = "production"
}

variable "state_bucket" {
  description = "Name of the state bucket the bootstrap created; imported so its versioning and access settings are kept as code."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.state_bucket))
    error_message = "state_bucket must be a bucket name (the STATE_BUCKET of env/production.env), without gs://."
  }
}

variable "subnet_cidr" {
  description = "Primary range of the Cloud Run subnet."
  type        = string
  default     = "10.10.0.0/24"
}

variable "redis_memory_size_gb" {
  description = "Memory of the Memorystore instance in GB."
  type        = number
  default     = 1
}

variable "redis_tier" {
  description = "BASIC or STANDARD_HA."
  type        = string
  default     = "BASIC"
}

variable "deletion_protection" {
  description = "Refuse to destroy Cloud Run services, jobs, Memorystore and the Cloud SQL instance (OpenTofu and API level)."
  type        = bool
  default     = true
}

variable "service_env" {
  description = "Extra plain environment variables per service (catalog name => { NAME = value }). Never secrets: those are Secret Manager files."
  type        = map(map(string))
  default     = {}
}

variable "deployer_project_roles" {
  description = "Project roles of the CI deployer account."
  type        = list(string)
  default = [
    # Create revisions, execute the migration jobs, move traffic.
    "roles/run.developer",
    # Read everything a plan refreshes; carries no secret payloads.
    "roles/viewer",
    # A plan refreshes the Memorystore instance, and the provider reads its AUTH string when AUTH is
    # on (redis.instances.getAuthString); Redis Viewer does not carry that permission.
    "roles/redis.editor",
  ]
}

variable "database_mode" {
  description = "Where the application databases live: cloudsql (this configuration's Cloud SQL instance; OpenTofu writes each service's URL) or external (elsewhere; make production-secrets asks a person for each database's URL). The deploy passes DATABASE_MODE from env/production.env as TF_VAR_database_mode."
  type        = string
  default     = "cloudsql"

  validation {
    condition     = contains(["cloudsql", "external"], var.database_mode)
    error_message = "database_mode must be cloudsql or external (DATABASE_MODE in env/production.env)."
  }
}

variable "database_tier" {
  description = "Cloud SQL machine tier (Enterprise edition). db-f1-micro (0.6 GB, 25 connections) serves the alpha within the budget; db-g1-small (1.7 GB, 50 connections) is the next step. See infra/README.md, Cost."
  type        = string
  default     = "db-f1-micro"
}

variable "database_password_generation" {
  description = "Raise by one to give postgres and every service login new passwords in one apply (written only to Cloud SQL and Secret Manager, never to state); the deploy's database-access job sets them in PostgreSQL right after."
  type        = number
  default     = 1
}

variable "edge_domain" {
  description = "Host name of the public front door (e.g. api.example.com). Set, it puts an external Application Load Balancer with a Cloud Armor per-address limit in front of the gateway (infra/modules/edge); empty, the gateway's run.app URL is the only door."
  type        = string
  default     = ""

  validation {
    condition     = var.edge_domain == "" || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.edge_domain))
    error_message = "edge_domain must be empty or a lowercase host name such as api.example.com, without https:// or a path."
  }
}

variable "edge_only" {
  description = "true once the apps call edge_domain: the gateway then takes requests from the load balancer only (ingress INTERNAL_LOAD_BALANCER), so nobody can go around Cloud Armor through the run.app URL."
  type        = bool
  default     = false

  validation {
    condition     = !var.edge_only || var.edge_domain != ""
    error_message = "edge_only needs edge_domain: set the domain, apply, point its DNS at the edge output's ip_address and move the apps first (docs/infrastructure/production-deployment.md, Front door)."
  }
}

variable "edge_requests_per_minute" {
  description = "Requests one client address may send a minute through the front door before Cloud Armor answers 429; as many again within the minute bans it for edge_ban_seconds."
  type        = number
  default     = 1200
}

variable "edge_ban_seconds" {
  description = "How long Cloud Armor refuses an address that kept exceeding edge_requests_per_minute."
  type        = number
  default     = 600
}
