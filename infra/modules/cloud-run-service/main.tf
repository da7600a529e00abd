# One Cloud Run v2 service with its own service account. Secrets arrive as files, never as
# environment values, and every caller is granted run.invoker by its own additive binding.

locals {
  # Secret Manager ids are at most 255 characters; the account id must be 6-30.
  account_id = substr("run-${var.name}", 0, 30)
  secret_env = { for mount, _ in var.secrets : "${upper(replace(mount, "-", "_"))}_FILE" => "/secrets/${mount}/value" }
  env        = merge(local.secret_env, var.env)
}

resource "google_service_account" "this" {
  project      = var.project_id
  account_id   = local.account_id
  display_name = "Cloud Run ${var.name}"
  description  = "Runtime identity of the ${var.name} Cloud Run service; holds only the grants that service needs."
}

resource "google_project_iam_member" "runtime" {
  for_each = toset(var.service_account_roles)

  project = var.project_id
  role    = each.value
  member  = google_service_account.this.member
}

resource "google_cloud_run_v2_service" "this" {
  project             = var.project_id
  location            = var.region
  name                = var.name
  ingress             = var.ingress
  deletion_protection = var.deletion_protection
  labels              = merge(var.labels, { service = var.name, managed-by = "opentofu" })

  template {
    service_account                  = google_service_account.this.email
    max_instance_request_concurrency = var.concurrency
    timeout                          = var.request_timeout

    scaling {
      min_instance_count = var.min_instances
      max_instance_count = var.max_instances
    }

    dynamic "vpc_access" {
      for_each = var.vpc_access == null ? [] : [var.vpc_access]
      content {
        egress = vpc_access.value.egress
        network_interfaces {
          network    = vpc_access.value.network
          subnetwork = vpc_access.value.subnetwork
        }
      }
    }

    containers {
      image = var.image

      ports {
        container_port = var.port
      }

      resources {
        limits = {
          cpu    = var.cpu
          memory = var.memory
        }
        cpu_idle          = var.cpu_idle
        startup_cpu_boost = var.startup_cpu_boost
      }

      dynamic "env" {
        for_each = local.env
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "volume_mounts" {
        for_each = var.secrets
        content {
          name       = volume_mounts.key
          mount_path = "/secrets/${volume_mounts.key}"
        }
      }

      # Generous startup window (24 x 5 s) so a slow migration check or cold import does not
      # kill the first instance; liveness is stricter once the service is up.
      startup_probe {
        initial_delay_seconds = 0
        period_seconds        = 5
        timeout_seconds       = 3
        failure_threshold     = 24
        http_get {
          path = var.health_path
          port = var.port
        }
      }

      liveness_probe {
        period_seconds    = 30
        timeout_seconds   = 5
        failure_threshold = 3
        http_get {
          path = var.health_path
          port = var.port
        }
      }
    }

    dynamic "volumes" {
      for_each = var.secrets
      content {
        name = volumes.key
        secret {
          secret = volumes.value
          items {
            path    = "value"
            version = var.secret_version
          }
        }
      }
    }
  }

  traffic {
    type    = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
    percent = 100
  }

  lifecycle {
    # Rollback moves traffic with `gcloud run services update-traffic`, and the deploy moves it
    # to the new revision only after migrations and health checks; an unrelated apply must not
    # undo either. gcloud also stamps client fields on every change it makes. A secret rotation
    # starts a new revision of the same template (`--revision-suffix`), which names it.
    ignore_changes = [traffic, client, client_version, template[0].revision]
  }

  depends_on = [google_project_iam_member.runtime]
}

resource "google_cloud_run_v2_service_iam_member" "invoker" {
  for_each = var.invokers

  project  = var.project_id
  location = var.region
  name     = google_cloud_run_v2_service.this.name
  role     = "roles/run.invoker"
  member   = each.value
}
