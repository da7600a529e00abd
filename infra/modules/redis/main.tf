# Memorystore for the gateway's identity cache: private (an address from the private services
# access range, no public endpoint) and with AUTH on. Memorystore generates the AUTH string;
# it is copied into a Secret Manager secret, which the gateway mounts as a file.

resource "google_redis_instance" "this" {
  project                 = var.project_id
  region                  = var.region
  name                    = var.name
  display_name            = "Gateway identity cache"
  tier                    = var.tier
  memory_size_gb          = var.memory_size_gb
  redis_version           = "REDIS_7_2"
  authorized_network      = var.network_id
  connect_mode            = "PRIVATE_SERVICE_ACCESS"
  reserved_ip_range       = var.reserved_range
  auth_enabled            = true
  transit_encryption_mode = var.transit_encryption_mode
  deletion_protection     = var.deletion_protection
  labels                  = merge(var.labels, { managed-by = "opentofu" })

  redis_configs = {
    # The cache only ever holds entries with a TTL; evict those first under memory pressure.
    maxmemory-policy = "volatile-lru"
  }

  maintenance_policy {
    weekly_maintenance_window {
      day = "SUNDAY"
      start_time {
        hours   = 3
        minutes = 0
      }
    }
  }
}

# Write-only: the value reaches Secret Manager without being stored in state a second time
# (Memorystore's own attribute already holds it, which is why state access is guarded).
resource "google_secret_manager_secret_version" "auth" {
  secret                 = var.auth_secret_id
  secret_data_wo         = google_redis_instance.this.auth_string
  secret_data_wo_version = var.auth_secret_generation
}
