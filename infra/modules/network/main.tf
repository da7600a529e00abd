# The private network Cloud Run sends traffic into (Direct VPC egress), the range Memorystore
# lives in (private services access), and the DNS that keeps service-to-service calls inside
# Google's network so internal-only ingress accepts them.

resource "google_compute_network" "this" {
  project                 = var.project_id
  name                    = var.name
  auto_create_subnetworks = false
  routing_mode            = "REGIONAL"
}

resource "google_compute_subnetwork" "run" {
  project       = var.project_id
  region        = var.region
  name          = "${var.name}-run"
  network       = google_compute_network.this.id
  ip_cidr_range = var.subnet_cidr
  # Calls to *.run.app resolve (below) to private.googleapis.com; Private Google Access lets
  # instances without external addresses reach it, so internal-only ingress sees VPC traffic.
  private_ip_google_access = true
}

resource "google_compute_global_address" "private_services" {
  project       = var.project_id
  name          = "${var.name}-private-services"
  network       = google_compute_network.this.id
  purpose       = "VPC_PEERING"
  address_type  = "INTERNAL"
  prefix_length = var.private_services_prefix_length
}

resource "google_service_networking_connection" "private_services" {
  network                 = google_compute_network.this.id
  service                 = "servicenetworking.googleapis.com"
  reserved_peering_ranges = [google_compute_global_address.private_services.name]
}

# Private zone for run.app, seen only from this network: every *.run.app name answers with
# private.googleapis.com's addresses, so a caller's request to an internal-only service enters
# through the VPC (and Private Google Access) instead of the public internet path, where
# Cloud Run would reject it.
resource "google_dns_managed_zone" "run_app" {
  project     = var.project_id
  name        = "${var.name}-run-app"
  dns_name    = "run.app."
  description = "Resolves run.app to private.googleapis.com inside ${var.name}, so calls to internal-only Cloud Run services stay private."
  visibility  = "private"

  private_visibility_config {
    networks {
      network_url = google_compute_network.this.id
    }
  }
}

resource "google_dns_record_set" "run_app_apex" {
  project      = var.project_id
  managed_zone = google_dns_managed_zone.run_app.name
  name         = "run.app."
  type         = "A"
  ttl          = 300
  rrdatas      = ["199.36.153.8", "199.36.153.9", "199.36.153.10", "199.36.153.11"]
}

resource "google_dns_record_set" "run_app_wildcard" {
  project      = var.project_id
  managed_zone = google_dns_managed_zone.run_app.name
  name         = "*.run.app."
  type         = "CNAME"
  ttl          = 300
  rrdatas      = ["run.app."]
}
