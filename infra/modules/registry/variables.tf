variable "project_id" {
  description = "Project that hosts the repository."
  type        = string
}

variable "region" {
  description = "Location of the repository; the Cloud Run region, so pulls stay regional."
  type        = string
}

variable "repository_id" {
  description = "Repository name; images are <region>-docker.pkg.dev/<project>/<repository_id>/<image>."
  type        = string
  default     = "mindmirror"

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.repository_id))
    error_message = "repository_id must be lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "keep_count" {
  description = "Most recent versions kept per image, whatever their tags."
  type        = number
  default     = 10

  validation {
    condition     = var.keep_count >= 1
    error_message = "keep_count must be 1 or more."
  }
}

variable "untagged_max_age_days" {
  description = "Untagged versions older than this are deleted."
  type        = number
  default     = 30
}

variable "tagged_max_age_days" {
  description = "Tagged versions older than this are deleted unless kept (a release tag v*, or among the most recent keep_count)."
  type        = number
  default     = 90
}

variable "release_tag_prefixes" {
  description = "Tag prefixes that are never deleted (release tags)."
  type        = list(string)
  default     = ["v"]
}

variable "cleanup_dry_run" {
  description = "Only report what the cleanup policies would delete."
  type        = bool
  default     = false
}

variable "writers" {
  description = "Who may push images: name => IAM member. One roles/artifactregistry.writer grant each, on this repository only."
  type        = map(string)
  default     = {}
}

variable "labels" {
  description = "Labels added to the repository."
  type        = map(string)
  default     = {}
}
