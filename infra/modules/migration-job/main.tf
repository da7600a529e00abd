# A Cloud Run job that brings one database's schema up to date. The deploy executes it
# (`gcloud run jobs execute --wait`) after the new images exist and before traffic moves to
# the new revisions, so code never serves against an older schema than it expects.

locals {
  secret_env = { for mount, _ in var.secrets : "${upper(replace(mount, "-", "_"))}_FILE" => "/secrets/${mount}/value" }
  env        = merge(local.secret_env, var.env)
}

resource "google_cloud_run_v2_job" "this" {
  project             = var.project_id
  location            = var.region
  name                = var.name
  deletion_protection = var.deletion_protection
  labels              = merge(var.labels, { managed-by = "opentofu" })

  template {
    task_count  = 1
    parallelism = 1

    template {
      service_account = var.service_account_email
      timeout         = var.timeout
      # A failed migration is looked at by a person, not retried into a half-applied state.
      max_retries = 0

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
        image   = var.image
        command = slice(var.command, 0, 1)
        args    = slice(var.command, 1, length(var.command))

        resources {
          limits = {
            cpu    = var.cpu
            memory = var.memory
          }
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
  }

  lifecycle {
    # gcloud stamps these when the deploy executes the job.
    ignore_changes = [client, client_version]
  }
}
