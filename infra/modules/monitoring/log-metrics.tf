# What the gateway knows and Cloud Run's own metrics do not: counts of its JSON log lines by
# event (gateway/src/log-events.ts). Each filter matches `jsonPayload.event` exactly, never the
# message text; test/gateway/log-metrics.test.ts runs the lines the gateway really writes through
# these filters. Labels are low-cardinality fields only (never ids, emails or tokens).

locals {
  gateway_lines = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${var.gateway_service}\""

  # name => event, what it counts, and its labels (label => the jsonPayload field it comes from).
  log_metrics = {
    gateway_client_identity_headers = {
      event       = "client_identity_header"
      description = "Identity headers a client sent (x-internal-id and the like), one per header: dropped (mode ignore) or refused (mode reject). The 3.4b cutover waits for this to stay at zero."
      labels      = { source = "source", mode = "mode" }
    }
    gateway_auth_refusals = {
      event       = "auth_refused"
      description = "Requests refused because no identity could be established, by extensions.code."
      labels      = { code = "code" }
    }
    gateway_identity_lookup_failures = {
      event       = "identity_lookup_failed"
      description = "Identity lookups users_service did not answer: the request failed closed (503 IDENTITY_UNAVAILABLE)."
      labels      = {}
    }
    gateway_redis_unavailable = {
      event       = "redis_unavailable"
      description = "Redis became unreachable on an instance: identities come from memory and users_service until it is back."
      labels      = {}
    }
    gateway_jwks_refresh_failures = {
      event       = "jwks_refresh_failed"
      description = "JWKS fetches or refreshes that failed (tokens are verified with cached keys, or not at all before the first fetch)."
      labels      = {}
    }
    gateway_requests_refused = {
      event       = "request_refused"
      description = "Requests refused by a limit or a rate limit, by limit. At most 20 lines per limit per 10 s are written, so under a flood this is a lower bound (each line's suppressedBefore says how many it stands for)."
      labels      = { limit = "limit" }
    }
  }
}

resource "google_logging_metric" "gateway" {
  for_each = local.log_metrics

  project     = var.project_id
  name        = each.key
  description = each.value.description
  filter      = "${local.gateway_lines} AND jsonPayload.event=\"${each.value.event}\""

  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "INT64"
    unit        = "1"

    dynamic "labels" {
      for_each = each.value.labels
      content {
        key        = labels.key
        value_type = "STRING"
      }
    }
  }

  label_extractors = { for label, field in each.value.labels : label => "EXTRACT(jsonPayload.${field})" }
}
