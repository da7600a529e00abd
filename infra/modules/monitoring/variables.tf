variable "project_id" {
  description = "Project whose services are watched."
  type        = string
}

variable "project_number" {
  description = "Number of the same project; budgets filter by project number."
  type        = string
}

variable "alert_email" {
  description = "Address that receives every alert and budget notification."
  type        = string

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alert_email))
    error_message = "alert_email must be an email address such as oncall@example.com."
  }
}

variable "gateway_url" {
  description = "Public URL of the gateway (https://...), checked from outside by the uptime check."
  type        = string
}

variable "front_door_url" {
  description = "The front door's URL (https://...) while the gateway's own URL still takes the internet too (edge_domain without edge_only): checked from outside as well, so the door the apps move to is watched before they move. Empty when there is no front door, or when it is gateway_url itself."
  type        = string
  default     = ""

  validation {
    condition     = var.front_door_url == "" || can(regex("^https://[a-z0-9.-]+$", var.front_door_url))
    error_message = "front_door_url must be empty or https://<host>, without a path."
  }
}

variable "gateway_service" {
  description = "Cloud Run service name of the gateway."
  type        = string
  default     = "gateway"
}

variable "gateway_health_path" {
  description = "Liveness path of the gateway."
  type        = string
  default     = "/healthcheck"
}

variable "users_service" {
  description = "Cloud Run service name of users_service, the one mesh service every login depends on."
  type        = string
  default     = "users-service"
}

variable "error_ratio_threshold" {
  description = "Fraction of 5xx responses over the window that opens an incident (0.05 = 5%)."
  type        = number
  default     = 0.05

  validation {
    condition     = var.error_ratio_threshold > 0 && var.error_ratio_threshold < 1
    error_message = "error_ratio_threshold must be a fraction between 0 and 1, such as 0.05."
  }
}

variable "latency_p95_threshold_ms" {
  description = "95th percentile request latency of the gateway, in milliseconds, that opens an incident."
  type        = number
  default     = 2000
}

variable "window" {
  description = "Window over which ratios and percentiles are computed."
  type        = string
  default     = "300s"
}

variable "billing_account_id" {
  description = "Billing account that pays for the project (XXXXXX-XXXXXX-XXXXXX)."
  type        = string

  validation {
    condition     = can(regex("^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$", var.billing_account_id))
    error_message = "billing_account_id must look like 012345-6789AB-CDEF01 (gcloud billing accounts list)."
  }
}

variable "monthly_budget_usd" {
  description = "Monthly budget in US dollars."
  type        = number

  validation {
    condition     = var.monthly_budget_usd > 0 && floor(var.monthly_budget_usd) == var.monthly_budget_usd
    error_message = "monthly_budget_usd must be a whole number of dollars above 0."
  }
}

variable "budget_alert_thresholds" {
  description = "Fractions of the budget at which a notification goes out."
  type        = list(number)
  default     = [0.5, 0.75, 0.9, 1.0]

  validation {
    condition     = length(var.budget_alert_thresholds) > 0 && alltrue([for t in var.budget_alert_thresholds : t > 0])
    error_message = "budget_alert_thresholds must list fractions above 0, such as [0.5, 0.75, 0.9, 1.0]."
  }
}

variable "runbook_url" {
  description = "Address of docs/infrastructure/production-deployment.md as people open it; alerts link to its sections."
  type        = string

  validation {
    condition     = can(regex("^https://", var.runbook_url))
    error_message = "runbook_url must be an https:// address."
  }
}

variable "auth_refusals_threshold" {
  description = "Auth refusals of one code per window that open an incident."
  type        = number
  default     = 300
}

variable "lookup_failures_threshold" {
  description = "Identity lookups failing closed per window that open an incident."
  type        = number
  default     = 5
}

variable "redis_down_minutes" {
  description = "Minutes an instance serves without Redis before an incident opens."
  type        = number
  default     = 10
}

variable "secret_rotation_subscription" {
  description = "Pub/Sub subscription that keeps Secret Manager's SECRET_ROTATE reminders (secrets module); an incident is open while one waits there."
  type        = string
}

variable "edge_security_policy" {
  description = "Name of the front door's Cloud Armor policy (infra/modules/edge), whose refusals raise an alert; empty when there is no front door."
  type        = string
  default     = ""
}
