# A secret due for rotation: Secret Manager's schedule published a SECRET_ROTATE reminder and
# nobody has rotated it yet. The incident stays open while the reminder waits (up to the
# subscription's week of retention); make production-rotate-secret acknowledges it.

resource "google_monitoring_alert_policy" "secret_rotation_due" {
  project               = var.project_id
  display_name          = "A secret is due for rotation"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = [google_monitoring_notification_channel.email.id]

  conditions {
    display_name = "Rotation reminders waiting in ${var.secret_rotation_subscription}"
    condition_threshold {
      filter          = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.type=\"pubsub_subscription\" AND resource.label.subscription_id=\"${var.secret_rotation_subscription}\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      # Pub/Sub writes no point for an idle subscription: quiet is not an incident.
      evaluation_missing_data = "EVALUATION_MISSING_DATA_INACTIVE"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    subject   = "A secret is due for rotation"
    content   = "A secret's value has reached the maximum age services.yaml gives it. make production-secrets-status names it; make production-rotate-secret SECRET=<name> rotates it and clears this reminder. Runbook: ${var.runbook_url}#alert-secret-rotation-due"
    links {
      display_name = "Runbook: what to do"
      url          = "${var.runbook_url}#alert-secret-rotation-due"
    }
  }
}
