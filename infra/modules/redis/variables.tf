variable "project_id" {
  description = "Project that hosts the instance."
  type        = string
}

variable "region" {
  description = "Region of the instance; the same as Cloud Run's to keep latency low."
  type        = string
}

variable "name" {
  description = "Instance name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,38}[a-z0-9]$", var.name))
    error_message = "name must be 2-40 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "network_id" {
  description = "VPC the instance is reachable from, once private services access is connected (network module output private_services_network_id)."
  type        = string
}

variable "reserved_range" {
  description = "Name of the private services access range the instance takes its address from."
  type        = string
}

variable "memory_size_gb" {
  description = "Memory of the instance in GB; the identity cache holds short keys, so 1 GB is plenty."
  type        = number
  default     = 1

  validation {
    condition     = var.memory_size_gb >= 1 && var.memory_size_gb <= 300
    error_message = "memory_size_gb must be between 1 and 300."
  }
}

variable "tier" {
  description = "BASIC (one node; a cache can be lost and refilled from users_service) or STANDARD_HA (a replica, about twice the price)."
  type        = string
  default     = "BASIC"

  validation {
    condition     = contains(["BASIC", "STANDARD_HA"], var.tier)
    error_message = "tier must be BASIC or STANDARD_HA."
  }
}

variable "transit_encryption_mode" {
  description = "DISABLED or SERVER_AUTHENTICATION (TLS; clients then need the instance's CA certificate)."
  type        = string
  default     = "DISABLED"

  validation {
    condition     = contains(["DISABLED", "SERVER_AUTHENTICATION"], var.transit_encryption_mode)
    error_message = "transit_encryption_mode must be DISABLED or SERVER_AUTHENTICATION."
  }
}

variable "auth_secret_id" {
  description = "Secret Manager secret that receives the AUTH string Memorystore generates (the gateway mounts it)."
  type        = string
}

variable "auth_secret_generation" {
  description = "Raise by one after rotating the AUTH string (gcloud redis instances update --auth-enabled) so the new string is written to the secret."
  type        = number
  default     = 1
}

variable "deletion_protection" {
  description = "Refuse to destroy the instance."
  type        = bool
}

variable "labels" {
  description = "Labels added to the instance."
  type        = map(string)
  default     = {}
}
