variable "project_id" {
  description = "Project that hosts the secrets."
  type        = string
}

variable "secret_ids" {
  description = "Secret Manager secret ids to create. Only the containers: values are added outside OpenTofu, so they never pass through variables or state."
  type        = list(string)

  validation {
    condition     = alltrue([for s in var.secret_ids : can(regex("^[a-z][a-z0-9-]{0,254}$", s))])
    error_message = "each secret id must be lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "accessors" {
  description = "Who may read each secret: secret id => { caller name => IAM member }. One roles/secretmanager.secretAccessor grant per pair, on that secret only."
  type        = map(map(string))
  default     = {}
}

variable "labels" {
  description = "Labels added to every secret."
  type        = map(string)
  default     = {}
}
