variable "project_id" {
  description = "Project that hosts the load balancer and its Cloud Armor policy."
  type        = string
}

variable "region" {
  description = "Region of the gateway's Cloud Run service, where its serverless endpoint group lives."
  type        = string
}

variable "name" {
  description = "Prefix of every resource's name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,38}[a-z0-9]$", var.name))
    error_message = "name must be 2-40 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "cloud_run_service" {
  description = "Name of the Cloud Run service behind the load balancer (the gateway)."
  type        = string
}

variable "domain" {
  description = "The public host name the apps call, e.g. api.example.com; its DNS A record must point at the ip_address output before Google issues the certificate."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "domain must be a lowercase host name such as api.example.com, without https:// or a path."
  }
}

variable "requests_per_minute" {
  description = "Requests one client address may send a minute before Cloud Armor answers 429; sending as many again within the minute bans the address for ban_duration_seconds."
  type        = number

  validation {
    condition     = var.requests_per_minute >= 60 && var.requests_per_minute <= 10000 && floor(var.requests_per_minute) == var.requests_per_minute
    error_message = "requests_per_minute must be a whole number from 60 to 10000 (Cloud Armor's largest threshold)."
  }
}

variable "ban_duration_seconds" {
  description = "How long an address that kept exceeding requests_per_minute is refused."
  type        = number

  validation {
    condition     = contains([60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600], var.ban_duration_seconds)
    error_message = "ban_duration_seconds must be one of 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600."
  }
}

variable "log_sample_rate" {
  description = "Share of requests the load balancer logs (0 to 1); the logs carry Cloud Armor's decision for each request."
  type        = number
  default     = 1

  validation {
    condition     = var.log_sample_rate >= 0 && var.log_sample_rate <= 1
    error_message = "log_sample_rate must be between 0 and 1."
  }
}

variable "labels" {
  description = "Labels on the forwarding rule."
  type        = map(string)
  default     = {}
}
