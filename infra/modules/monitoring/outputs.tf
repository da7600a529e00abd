output "notification_channel" {
  description = "Id of the email notification channel."
  value       = google_monitoring_notification_channel.email.id
}

output "uptime_check_id" {
  description = "Id of the gateway uptime check."
  value       = google_monitoring_uptime_check_config.gateway.uptime_check_id
}

output "alert_policies" {
  description = "Alert policy ids by purpose."
  value = {
    gateway_down  = google_monitoring_alert_policy.gateway_down.id
    error_ratio   = google_monitoring_alert_policy.error_ratio.id
    latency       = google_monitoring_alert_policy.latency.id
    users_service = google_monitoring_alert_policy.users_service.id
    gateway_logs  = { for name, policy in google_monitoring_alert_policy.gateway_logs : name => policy.id }
  }
}

output "budget" {
  description = "Resource name of the monthly budget."
  value       = google_billing_budget.monthly.name
}

output "log_metrics" {
  description = "Metric type of each gateway log-based metric, by name (for alerts and the dashboard)."
  value       = { for name, metric in google_logging_metric.gateway : name => "logging.googleapis.com/user/${metric.name}" }
}

output "dashboard_url" {
  description = "The production dashboard in the console."
  value       = "https://console.cloud.google.com/monitoring/dashboards/builder/${element(split("/", google_monitoring_dashboard.production.id), 3)}?project=${var.project_id}"
}
