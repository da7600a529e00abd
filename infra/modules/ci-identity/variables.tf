variable "project_id" {
  description = "Project the deploys act on."
  type        = string
}

variable "github_repository" {
  description = "GitHub repository (owner/name) whose workflows may deploy."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be owner/name, such as mindmirror/mindmirror."
  }
}

variable "github_environment" {
  description = "GitHub environment a deploy job must run in (the one with the approval gate); tokens from any other job are refused."
  type        = string
  default     = "production"
}

variable "github_repository_id" {
  description = "Numeric id of that repository (gh api repos/OWNER/NAME --jq .id): unlike its name, it cannot be taken over by re-registering the name."
  type        = string

  validation {
    condition     = can(regex("^[0-9]+$", var.github_repository_id))
    error_message = "github_repository_id must be the repository's numeric id (gh api repos/OWNER/NAME --jq .id)."
  }
}

variable "github_repository_owner_id" {
  description = "Numeric id of the repository's owner (gh api repos/OWNER/NAME --jq .owner.id)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]+$", var.github_repository_owner_id))
    error_message = "github_repository_owner_id must be the owner's numeric id (gh api repos/OWNER/NAME --jq .owner.id)."
  }
}

variable "drift_environment" {
  description = "GitHub environment of the daily drift check; its jobs get the read-only drift checker account and nothing else."
  type        = string
  default     = "drift-check"

  validation {
    condition     = var.drift_environment != var.github_environment
    error_message = "drift_environment must differ from github_environment: the drift check must never be able to deploy."
  }
}

variable "drift_account_id" {
  description = "Account id of the read-only drift checker service account."
  type        = string
  default     = "drift-check"
}

variable "pool_id" {
  description = "Workload identity pool id."
  type        = string
  default     = "github"
}

variable "provider_id" {
  description = "Workload identity pool provider id."
  type        = string
  default     = "github-actions"
}

variable "deployer_account_id" {
  description = "Account id of the deployer service account."
  type        = string
  default     = "deployer"
}

variable "deployer_project_roles" {
  description = "Project roles of the deployer: what shipping a release needs, nothing that edits IAM, networks or secrets."
  type        = list(string)

  validation {
    condition     = length(setintersection(var.deployer_project_roles, ["roles/owner", "roles/editor", "roles/secretmanager.secretAccessor", "roles/iam.serviceAccountUser", "roles/resourcemanager.projectIamAdmin"])) == 0
    error_message = "deployer_project_roles must not include owner, editor, secretAccessor, a project-wide serviceAccountUser or projectIamAdmin."
  }
}

variable "runtime_service_accounts" {
  description = "Runtime accounts the deployer may deploy revisions as: name => fully qualified account id (projects/.../serviceAccounts/...). One roles/iam.serviceAccountUser grant each, on that account only."
  type        = map(string)
  default     = {}
}
