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

variable "project_number" {
  description = "Number of the project: the Secret Manager service agent that publishes rotation reminders is named after it."
  type        = string
}

variable "rotation_days" {
  description = "Secret id => days its value may live. Each gets Secret Manager's rotation schedule with that period, publishing reminders to the reminders topic. Secrets not listed get no schedule."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for days in values(var.rotation_days) : days >= 1 && floor(days) == days])
    error_message = "each rotation period must be a whole number of days, at least 1."
  }
}

variable "rotation_subscription" {
  description = "Name of the subscription that keeps the SECRET_ROTATE reminders (the alert watches it; make production-rotate-secret acknowledges it)."
  type        = string
  default     = "secret-rotation-due"
}
