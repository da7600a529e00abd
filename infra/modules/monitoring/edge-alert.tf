# Cloud Armor refusing an address at the front door (infra/modules/edge): above the per-address
# limit it answers 429, and past twice it bans the address for a while. Both are what the rule is
# for, but the on-call should know while it happens: many users behind one carrier or office
# address look like one client, and the runbook's emergency step (preview, then a higher limit)
# only helps if someone hears of it. No log-based metric is needed: the load balancer's request
# log names the policy's decision for each request (its log_config enables it), and the alert
# matches those entries directly. It would match every refused request, so it mails at most once
# an hour, and closes itself half an hour after the last.

resource "google_monitoring_alert_policy" "edge_refusals" {
  count = var.edge_security_policy == "" ? 0 : 1

  project               = var.project_id
  display_name          = "Cloud Armor refusing requests at the front door"
  combiner              = "OR"
  severity              = "WARNING"
  notification_channels = [google_monitoring_notification_channel.email.id]

  conditions {
    display_name = "Requests denied by ${var.edge_security_policy}"
    condition_matched_log {
      filter = "resource.type=\"http_load_balancer\" AND jsonPayload.enforcedSecurityPolicy.name=\"${var.edge_security_policy}\" AND jsonPayload.enforcedSecurityPolicy.outcome=\"DENY\""
      # The incident names the address refused and the rule's action (RATE_BASED_BAN).
      label_extractors = {
        address = "EXTRACT(httpRequest.remoteIp)"
        action  = "EXTRACT(jsonPayload.enforcedSecurityPolicy.configuredAction)"
      }
    }
  }

  alert_strategy {
    notification_rate_limit {
      period = "3600s"
    }
    auto_close = "1800s"
  }

  documentation {
    mime_type = "text/markdown"
    subject   = "Cloud Armor refusing requests at the front door"
    content   = "The front door's Cloud Armor policy answered an address with 429: it sent more than the per-address limit in a minute, and past twice the limit it is banned for a while. One abusive client needs nothing; many users behind one address do. Runbook: ${var.runbook_url}#alert-edge-refusals"
    links {
      display_name = "Runbook: what to do"
      url          = "${var.runbook_url}#alert-edge-refusals"
    }
  }
}
