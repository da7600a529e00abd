# What wakes someone up: the gateway failing from outside, too many 5xx, slow answers,
# users_service (on every login's path) down, and spend running ahead of the budget.

locals {
  gateway_host = trimprefix(var.gateway_url, "https://")
  # Known at plan time (from variables only), unlike gateway_url, which is Cloud Run's address.
  front_door_host = trimprefix(var.front_door_url, "https://")
  run_requests = "metric.type=\"run.googleapis.com/request_count\" AND resource.type=\"cloud_run_revision\""
  run_latency  = "metric.type=\"run.googleapis.com/request_latencies\" AND resource.type=\"cloud_run_revision\""
  run_5xx      = "${local.run_requests} AND metric.label.response_code_class=\"5xx\""
  users_filter = "resource.label.service_name=\"${var.users_service}\""
  error_pct    = var.error_ratio_threshold * 100
}

resource "google_monitoring_notification_channel" "email" {
  project      = var.project_id
  display_name = "On-call email"
  type         = "email"
  labels = {
    email_address = var.alert_email
  }
}

resource "google_monitoring_uptime_check_config" "gateway" {
  project      = var.project_id
  display_name = "gateway ${var.gateway_health_path}"
  timeout      = "10s"
  period       = "60s"

  http_check {
    path         = var.gateway_health_path
    port         = 443
    use_ssl      = true
    validate_ssl = true
  }

  monitored_resource {
    type = "uptime_url"
    labels = {
      project_id = var.project_id
      host       = local.gateway_host
    }
  }
}

# The same check through the front door (load balancer, certificate, Cloud Armor, DNS): a broken
# certificate or DNS record shows here before the apps are moved onto the domain. A resource of
# its own rather than a for_each over hosts: the first check keeps its address in existing state.
resource "google_monitoring_uptime_check_config" "front_door" {
  count = var.front_door_url == "" ? 0 : 1

  project      = var.project_id
  display_name = "gateway ${var.gateway_health_path} through the front door"
  timeout      = "10s"
  period       = "60s"

  http_check {
    path         = var.gateway_health_path
    port         = 443
    use_ssl      = true
    validate_ssl = true
  }

  monitored_resource {
    type = "uptime_url"
    labels = {
      project_id = var.project_id
      host       = local.front_door_host
    }
  }
}

locals {
  uptime_checks = concat(
    [{ name = var.gateway_health_path, id = google_monitoring_uptime_check_config.gateway.uptime_check_id }],
    [for check in google_monitoring_uptime_check_config.front_door : { name = "${var.gateway_health_path} through the front door", id = check.uptime_check_id }],
  )
}

resource "google_monitoring_alert_policy" "gateway_down" {
  project               = var.project_id
  display_name          = "Gateway failing its uptime check"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = [google_monitoring_notification_channel.email.id]

  dynamic "conditions" {
    for_each = local.uptime_checks
    content {
      display_name = "${conditions.value.name} failing from two or more regions"
      condition_threshold {
        filter     = "metric.type=\"monitoring.googleapis.com/uptime_check/check_passed\" AND resource.type=\"uptime_url\" AND metric.label.check_id=\"${conditions.value.id}\""
        comparison = "COMPARISON_GT"
        # One failing region is often the prober's network; two is the gateway.
        threshold_value = 1
        duration        = "300s"
        aggregations {
          alignment_period     = "1200s"
          per_series_aligner   = "ALIGN_NEXT_OLDER"
          cross_series_reducer = "REDUCE_COUNT_FALSE"
          group_by_fields      = ["resource.label.host"]
        }
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "The public gateway does not answer ${var.gateway_health_path}; the incident names the host. Check its latest revision (gcloud run services describe ${var.gateway_service}); roll back with make production-rollback-traffic. Only the front door's host failing: its certificate, DNS record or Cloud Armor policy (runbook: ${var.runbook_url}#front-door)."
  }
}

resource "google_monitoring_alert_policy" "error_ratio" {
  project               = var.project_id
  display_name          = "5xx ratio above ${local.error_pct}%"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = [google_monitoring_notification_channel.email.id]

  conditions {
    display_name = "5xx responses above ${local.error_pct}% of requests over ${var.window}, per service"
    condition_threshold {
      filter             = local.run_5xx
      denominator_filter = local.run_requests
      comparison         = "COMPARISON_GT"
      threshold_value    = var.error_ratio_threshold
      duration           = "0s"
      aggregations {
        alignment_period     = var.window
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }
      denominator_aggregations {
        alignment_period     = var.window
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "More than ${local.error_pct}% of a service's requests failed with 5xx over ${var.window}. The incident names the service; read its logs, and roll back its traffic if a release caused it."
  }
}

resource "google_monitoring_alert_policy" "latency" {
  project               = var.project_id
  display_name          = "Gateway p95 latency above ${var.latency_p95_threshold_ms} ms"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = [google_monitoring_notification_channel.email.id]

  conditions {
    display_name = "p95 request latency of ${var.gateway_service} above ${var.latency_p95_threshold_ms} ms over ${var.window}"
    condition_threshold {
      filter          = "${local.run_latency} AND resource.label.service_name=\"${var.gateway_service}\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.latency_p95_threshold_ms
      duration        = "0s"
      aggregations {
        alignment_period     = var.window
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_PERCENTILE_95"
        group_by_fields      = ["resource.label.service_name"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Gateway requests are slow at the 95th percentile. Likely causes: users_service slow (identity exchange), Redis unreachable (every request goes to users_service), or a slow subgraph."
  }
}

resource "google_monitoring_alert_policy" "users_service" {
  project               = var.project_id
  display_name          = "${var.users_service} unhealthy"
  combiner              = "OR"
  severity              = "CRITICAL"
  notification_channels = [google_monitoring_notification_channel.email.id]

  conditions {
    display_name = "${var.users_service} has no running instance"
    condition_threshold {
      filter     = "metric.type=\"run.googleapis.com/container/instance_count\" AND resource.type=\"cloud_run_revision\" AND ${local.users_filter}"
      comparison = "COMPARISON_LT"
      # min_instances is 1: fewer than one instance for the whole window means it is crashing.
      threshold_value         = 1
      duration                = var.window
      evaluation_missing_data = "EVALUATION_MISSING_DATA_ACTIVE"
      aggregations {
        alignment_period     = "60s"
        per_series_aligner   = "ALIGN_MAX"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }
    }
  }

  conditions {
    display_name = "${var.users_service} 5xx above ${local.error_pct}% over ${var.window}"
    condition_threshold {
      filter             = "${local.run_5xx} AND ${local.users_filter}"
      denominator_filter = "${local.run_requests} AND ${local.users_filter}"
      comparison         = "COMPARISON_GT"
      threshold_value    = var.error_ratio_threshold
      duration           = "0s"
      aggregations {
        alignment_period     = var.window
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }
      denominator_aggregations {
        alignment_period     = var.window
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = ["resource.label.service_name"]
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "users_service is down or failing. Every sign-in needs it (the gateway fails closed with 503 when it cannot resolve an identity)."
  }
}

resource "google_billing_budget" "monthly" {
  billing_account = var.billing_account_id
  display_name    = "${var.project_id} monthly"

  budget_filter {
    projects        = ["projects/${var.project_number}"]
    calendar_period = "MONTH"
  }

  amount {
    specified_amount {
      currency_code = "USD"
      units         = tostring(var.monthly_budget_usd)
    }
  }

  dynamic "threshold_rules" {
    for_each = var.budget_alert_thresholds
    content {
      threshold_percent = threshold_rules.value
      spend_basis       = "CURRENT_SPEND"
    }
  }

  all_updates_rule {
    monitoring_notification_channels = [google_monitoring_notification_channel.email.id]
    disable_default_iam_recipients   = false
  }
}
