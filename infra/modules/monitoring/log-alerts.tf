# Alerts on the gateway's log-based metrics (log-metrics.tf), to the same channel as the others.
# Each names the runbook section to follow. A metric created in the same apply can still be
# unknown to Monitoring for a few minutes (provider issue 11102): the first apply that adds one
# may fail on its alert with 404, and running the deploy again completes it.

locals {
  log_metric_type = { for name, metric in google_logging_metric.gateway : name => "metric.type=\"logging.googleapis.com/user/${metric.name}\" AND resource.type=\"cloud_run_revision\"" }

  log_alerts = {
    auth_refusals = {
      display_name = "Gateway auth refusals above ${var.auth_refusals_threshold} in ${var.window}"
      metric       = "gateway_auth_refusals"
      threshold    = var.auth_refusals_threshold
      alignment    = var.window
      duration     = "0s"
      group_by     = ["metric.label.code"]
      severity     = "WARNING"
      runbook      = "alert-auth-refusals"
      content      = "More requests than usual are refused because no identity could be established; the incident names the code (UNAUTHENTICATED: bad or expired tokens, a client bug or someone probing; AUTH_UNAVAILABLE: the gateway cannot fetch Supabase's keys)."
    }
    lookup_failures = {
      display_name = "Gateway identity lookups failing closed"
      metric       = "gateway_identity_lookup_failures"
      threshold    = var.lookup_failures_threshold
      alignment    = var.window
      duration     = "0s"
      group_by     = []
      severity     = "CRITICAL"
      runbook      = "alert-identity-lookups"
      content      = "users_service does not answer the gateway's identity lookups, so signed-in requests of users not cached fail with 503 IDENTITY_UNAVAILABLE."
    }
    redis_down = {
      display_name = "Gateway without Redis for ${var.redis_down_minutes} minutes"
      metric       = "gateway_redis_unavailable"
      threshold    = 0
      alignment    = "60s"
      duration     = "${var.redis_down_minutes * 60}s"
      group_by     = ["resource.label.revision_name"]
      severity     = "WARNING"
      runbook      = "alert-redis-down"
      content      = "A gateway instance has served without Redis for a while (it logs a reminder every minute while Redis is down): identities come from each instance's memory and users_service, and rate limits count per instance."
    }
  }
}

resource "google_monitoring_alert_policy" "gateway_logs" {
  for_each = local.log_alerts

  project               = var.project_id
  display_name          = each.value.display_name
  combiner              = "OR"
  severity              = each.value.severity
  notification_channels = [google_monitoring_notification_channel.email.id]

  conditions {
    display_name = each.value.display_name
    condition_threshold {
      filter          = local.log_metric_type[each.value.metric]
      comparison      = "COMPARISON_GT"
      threshold_value = each.value.threshold
      duration        = each.value.duration
      # No line in a minute writes no point: quiet is not an incident.
      evaluation_missing_data = "EVALUATION_MISSING_DATA_INACTIVE"
      aggregations {
        alignment_period     = each.value.alignment
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
        group_by_fields      = each.value.group_by
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    subject   = each.value.display_name
    content   = "${each.value.content} Runbook: ${var.runbook_url}#${each.value.runbook}"
    links {
      display_name = "Runbook: what to do"
      url          = "${var.runbook_url}#${each.value.runbook}"
    }
  }

  depends_on = [google_logging_metric.gateway]
}
