# One screen for the person on call: every service's traffic, errors, latency and instances from
# Cloud Run's own metrics, the gateway's identity events from its log metrics, and the way to its
# logs and traces. Built as data so a test can check every tile's metric exists.

locals {
  run_filter = "resource.type=\"cloud_run_revision\""

  # [title, filter, aligner, reducer, group by, plot]
  service_charts = [
    ["Requests per second, by service", "metric.type=\"run.googleapis.com/request_count\" ${local.run_filter}", "ALIGN_RATE", "REDUCE_SUM", ["resource.label.service_name"], "LINE"],
    ["p95 latency (ms), by service", "metric.type=\"run.googleapis.com/request_latencies\" ${local.run_filter}", "ALIGN_DELTA", "REDUCE_PERCENTILE_95", ["resource.label.service_name"], "LINE"],
    ["Instances, by service", "metric.type=\"run.googleapis.com/container/instance_count\" ${local.run_filter}", "ALIGN_MAX", "REDUCE_SUM", ["resource.label.service_name"], "STACKED_AREA"],
  ]

  # [title, log metric, group by]
  identity_charts = [
    ["Client-sent identity headers (cutover waits for zero)", "gateway_client_identity_headers", ["metric.label.source"]],
    ["Auth refusals, by code", "gateway_auth_refusals", ["metric.label.code"]],
    ["Identity lookups failing closed", "gateway_identity_lookup_failures", []],
    ["Redis outages (minutes without Redis, per instance)", "gateway_redis_unavailable", ["resource.label.revision_name"]],
    ["JWKS refresh failures", "gateway_jwks_refresh_failures", []],
    ["Requests refused by limits (lower bound), by limit", "gateway_requests_refused", ["metric.label.limit"]],
  ]

  chart = { for i, c in local.service_charts : i => {
    title = c[0]
    xyChart = { dataSets = [{
      plotType           = c[5]
      minAlignmentPeriod = "60s"
      timeSeriesQuery = { timeSeriesFilter = {
        filter      = c[1]
        aggregation = { alignmentPeriod = "60s", perSeriesAligner = c[2], crossSeriesReducer = c[3], groupByFields = c[4] }
      } }
    }] }
  } }

  error_ratio_chart = {
    title = "5xx ratio, by service"
    xyChart = { dataSets = [{
      plotType           = "LINE"
      minAlignmentPeriod = "60s"
      timeSeriesQuery = { timeSeriesFilterRatio = {
        numerator   = { filter = "metric.type=\"run.googleapis.com/request_count\" ${local.run_filter} metric.label.response_code_class=\"5xx\"", aggregation = { alignmentPeriod = "60s", perSeriesAligner = "ALIGN_DELTA", crossSeriesReducer = "REDUCE_SUM", groupByFields = ["resource.label.service_name"] } }
        denominator = { filter = "metric.type=\"run.googleapis.com/request_count\" ${local.run_filter}", aggregation = { alignmentPeriod = "60s", perSeriesAligner = "ALIGN_DELTA", crossSeriesReducer = "REDUCE_SUM", groupByFields = ["resource.label.service_name"] } }
      } }
    }] }
  }

  identity_chart = { for i, c in local.identity_charts : i => {
    title = c[0]
    xyChart = { dataSets = [{
      plotType           = "STACKED_BAR"
      minAlignmentPeriod = "60s"
      timeSeriesQuery = { timeSeriesFilter = {
        filter      = "metric.type=\"logging.googleapis.com/user/${c[1]}\" ${local.run_filter}"
        aggregation = { alignmentPeriod = "60s", perSeriesAligner = "ALIGN_DELTA", crossSeriesReducer = "REDUCE_SUM", groupByFields = c[2] }
      } }
    }] }
  } }

  links_text = {
    title = "Logs and traces"
    text = {
      format  = "MARKDOWN"
      content = "[Gateway logs](https://console.cloud.google.com/logs/query;query=${urlencode("resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${var.gateway_service}\"")}?project=${var.project_id}) · [Traces](https://console.cloud.google.com/traces/list?project=${var.project_id}) · [Runbook](${var.runbook_url}) · `make production-status` for the same at a terminal."
    }
  }

  gateway_logs_panel = {
    title     = "Gateway warnings and errors"
    logsPanel = { filter = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${var.gateway_service}\" AND severity>=WARNING", resourceNames = ["projects/${var.project_id}"] }
  }

  # Two columns of 24 on a 48-column grid; each row 16 high.
  widgets = concat([local.chart[0], local.error_ratio_chart, local.chart[1], local.chart[2]], [for i in range(length(local.identity_charts)) : local.identity_chart[i]], [local.links_text, local.gateway_logs_panel])
  tiles   = [for i, w in local.widgets : { xPos = (i % 2) * 24, yPos = floor(i / 2) * 16, width = 24, height = 16, widget = w }]
}

resource "google_monitoring_dashboard" "production" {
  project = var.project_id
  dashboard_json = jsonencode({
    displayName  = "MindMirror production"
    mosaicLayout = { columns = 48, tiles = local.tiles }
  })

  # The identity tiles chart metrics that must exist first.
  depends_on = [google_logging_metric.gateway]
}
