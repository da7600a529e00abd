# The gateway's front door when production has a domain: an external Application Load Balancer
# with a Google-managed certificate, and a Cloud Armor policy that limits requests per client
# address at Google's edge. The gateway refuses what its own limits refuse, but every refusal
# still costs its one CPU the request's accept, headers and answer; one address sending as
# fast as it is answered held the legitimate p99 at 4 to 8 times its usual value
# (bench/gateway/RESULTS.md). Cloud Armor answers that address with 429 before the request
# leaves Google's edge, and bans it for a while if it keeps going.

resource "google_compute_global_address" "this" {
  project      = var.project_id
  name         = "${var.name}-ip"
  address_type = "EXTERNAL"
  ip_version   = "IPV4"
}

# The load balancer reaches the gateway's Cloud Run service through a serverless network
# endpoint group; the service keeps its own revisions and traffic split.
resource "google_compute_region_network_endpoint_group" "gateway" {
  project               = var.project_id
  region                = var.region
  name                  = "${var.name}-gateway"
  network_endpoint_type = "SERVERLESS"

  cloud_run {
    service = var.cloud_run_service
  }
}

resource "google_compute_security_policy" "this" {
  project     = var.project_id
  name        = "${var.name}-policy"
  description = "Per-address request limit in front of the MindMirror gateway."
  type        = "CLOUD_ARMOR"

  # Counted per client address as Google's edge sees it (the TCP peer, which a client cannot
  # write, unlike X-Forwarded-For). Above requests_per_minute an address is answered 429; when
  # it has sent as many more again within the minute, every request of it is answered 429 for
  # ban_duration_seconds.
  rule {
    action      = "rate_based_ban"
    priority    = 1000
    # Cloud Armor takes at most 64 characters here.
    description = "Per client address: 429 over the limit, a ban past twice it"

    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }

    rate_limit_options {
      conform_action   = "allow"
      exceed_action    = "deny(429)"
      enforce_on_key   = "IP"
      ban_duration_sec = var.ban_duration_seconds

      rate_limit_threshold {
        count        = var.requests_per_minute
        interval_sec = 60
      }

      ban_threshold {
        count        = var.requests_per_minute
        interval_sec = 60
      }
    }
  }

  # Every policy ends with a rule at the lowest priority; declaring it keeps plans quiet.
  rule {
    action      = "allow"
    priority    = 2147483647
    description = "Everything else: the gateway checks each caller itself"

    match {
      versioned_expr = "SRC_IPS_V1"
      config {
        src_ip_ranges = ["*"]
      }
    }
  }
}

resource "google_compute_backend_service" "gateway" {
  project               = var.project_id
  name                  = "${var.name}-gateway"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  # Accepted for a serverless endpoint group (Google's guide leaves the default, HTTP); the load
  # balancer reaches Cloud Run over Google's network either way.
  protocol        = "HTTPS"
  security_policy = google_compute_security_policy.this.id

  backend {
    group = google_compute_region_network_endpoint_group.gateway.id
  }

  # The request log names the policy's decision for each request (jsonPayload.enforcedSecurityPolicy),
  # which is how the runbook finds the addresses Cloud Armor refused.
  log_config {
    enable      = true
    sample_rate = var.log_sample_rate
  }
}

resource "google_compute_url_map" "this" {
  project         = var.project_id
  name            = var.name
  default_service = google_compute_backend_service.gateway.id
}

# Named after its domain, and replaced before the old one goes: a certificate in use by the proxy
# cannot be deleted, so a new domain gets a new certificate first.
resource "google_compute_managed_ssl_certificate" "this" {
  project = var.project_id
  name    = replace(substr("${var.name}-${replace(var.domain, ".", "-")}", 0, 63), "/-+$/", "")

  managed {
    domains = [var.domain]
  }

  lifecycle {
    create_before_destroy = true
  }
}

# TLS 1.2 and newer, modern ciphers: the callers are the MindMirror apps, not old browsers.
resource "google_compute_ssl_policy" "this" {
  project         = var.project_id
  name            = "${var.name}-tls"
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"
}

resource "google_compute_target_https_proxy" "this" {
  project          = var.project_id
  name             = "${var.name}-https"
  url_map          = google_compute_url_map.this.id
  ssl_certificates = [google_compute_managed_ssl_certificate.this.id]
  ssl_policy       = google_compute_ssl_policy.this.id
}

# HTTPS only: no listener on port 80. A client that sends its token over plain HTTP has leaked
# it already, so it should fail to connect rather than be redirected.
resource "google_compute_global_forwarding_rule" "https" {
  project               = var.project_id
  name                  = "${var.name}-https"
  target                = google_compute_target_https_proxy.this.id
  ip_address            = google_compute_global_address.this.address
  ip_protocol           = "TCP"
  port_range            = "443"
  load_balancing_scheme = "EXTERNAL_MANAGED"
  labels                = var.labels
}
