# The application databases: one Cloud SQL for PostgreSQL instance reachable only over private
# services access, its databases, and the passwords of its logins. Passwords are ephemeral
# values: they go to Cloud SQL (the admin's) and to Secret Manager (each service's connection
# URL) as write-only arguments, so the state never holds them. The logins themselves are made in
# SQL by the database-access job (database-access.sql), because a user made through the API
# joins cloudsqlsuperuser and could reach every database.

locals {
  # "<service>/<database>" => the parts of the URL a service gets for one database.
  url_parts = { for key, secret in var.url_secret_ids : key => { service = split("/", key)[0], database = split("/", key)[1], secret = secret } }
  # One mounted URL secret per login is enough for the job to learn that login's password.
  login_secret = { for service, login in var.logins : service => var.url_secret_ids["${service}/${login.databases[0]}"] }
}

resource "google_sql_database_instance" "this" {
  project          = var.project_id
  region           = var.region
  name             = var.name
  database_version = var.database_version
  # Provider-level guard: tofu destroy or a replacing change fails until this is set false and applied.
  deletion_protection = var.deletion_protection

  root_password_wo         = ephemeral.random_password.admin.result
  root_password_wo_version = tostring(var.password_generation)

  settings {
    # PostgreSQL 16+ defaults to Enterprise Plus, which refuses every small tier.
    edition           = "ENTERPRISE"
    tier              = var.tier
    availability_type = "ZONAL"
    disk_type         = "PD_SSD"
    disk_size         = var.disk_size_gb
    disk_autoresize   = true
    # Storage never shrinks; a runaway table stops here instead of on the bill.
    disk_autoresize_limit = var.disk_autoresize_limit_gb
    # API-level guard: console, gcloud and the API cannot delete the instance either.
    deletion_protection_enabled = var.deletion_protection
    # Deleting the instance would otherwise delete its backups with it.
    retain_backups_on_delete = true
    user_labels              = merge(var.labels, { managed-by = "opentofu" })

    ip_configuration {
      ipv4_enabled       = false
      private_network    = var.network_id
      allocated_ip_range = var.reserved_range
      ssl_mode           = "ENCRYPTED_ONLY"
    }

    backup_configuration {
      enabled                        = true
      start_time                     = var.backup_start_time
      point_in_time_recovery_enabled = true
      transaction_log_retention_days = 7

      backup_retention_settings {
        retained_backups = var.retained_backups
        retention_unit   = "COUNT"
      }
    }

    # Sunday 04:00 UTC, after the backup window, on the stable track.
    maintenance_window {
      day          = 7
      hour         = 4
      update_track = "stable"
    }

    insights_config {
      query_insights_enabled  = true
      query_string_length     = 1024
      query_plans_per_minute  = 5
      record_application_tags = false
      record_client_address   = false
    }

    database_flags {
      name  = "log_lock_waits"
      value = "on"
    }

    database_flags {
      name  = "log_temp_files"
      value = "0"
    }
  }

  lifecycle {
    # Storage grows by itself (disk_autoresize); an apply must never try to shrink it back.
    ignore_changes = [settings[0].disk_size]
  }
}

resource "google_sql_database" "this" {
  for_each = toset(var.databases)

  project  = var.project_id
  instance = google_sql_database_instance.this.name
  name     = each.value
}

# New values only when password_generation changes; then every password changes in one apply
# and the deploy's database-access job sets them in PostgreSQL right after.
ephemeral "random_password" "admin" {
  length  = 40
  special = false
}

# Letters and digits only: the password goes into a URL unencoded.
ephemeral "random_password" "login" {
  for_each = var.logins

  length  = 40
  special = false
}

resource "google_secret_manager_secret_version" "admin_password" {
  secret                 = var.admin_secret_id
  secret_data_wo         = ephemeral.random_password.admin.result
  secret_data_wo_version = var.password_generation
}

resource "google_secret_manager_secret_version" "database_url" {
  for_each = local.url_parts

  secret                 = each.value.secret
  secret_data_wo         = "postgresql://${var.logins[each.value.service].login}:${ephemeral.random_password.login[each.value.service].result}@${google_sql_database_instance.this.private_ip_address}:5432/${each.value.database}?sslmode=require"
  secret_data_wo_version = var.password_generation
}

# Runs database-access.sql as postgres: owner roles, logins, CONNECT taken from PUBLIC.
resource "google_service_account" "access_job" {
  project      = var.project_id
  account_id   = "run-database-access"
  display_name = "Cloud Run database-access"
  description  = "Runs the least-privilege SQL on the Cloud SQL instance; reads the admin password and the services' database URLs only."
}

module "access_job" {
  source = "../migration-job"

  project_id            = var.project_id
  region                = var.region
  name                  = "database-access"
  image                 = var.psql_image
  service_account_email = google_service_account.access_job.email
  vpc_access            = var.vpc_access
  deletion_protection   = var.deletion_protection
  labels                = var.labels
  timeout               = "300s"

  secrets = { for name in concat([var.admin_secret_id], sort(values(local.login_secret))) : name => var.mount_secret_ids[name] }

  # Passwords go from the mounted files into psql's environment, never onto a command line.
  command = ["sh", "-c", join("\n", concat(
    ["set -eu", "export PGPASSWORD=\"$(cat /secrets/${var.admin_secret_id}/value)\""],
    [for service, secret in local.login_secret : "export ${var.logins[service].password_env}=\"$(sed -E 's#^[^:]*://[^:]*:([^@]*)@.*#\\1#' /secrets/${secret}/value)\""],
    ["printf '%s\\n' \"$ACCESS_SQL\" | psql -X -q -f -"],
  ))]

  env = {
    PGHOST     = google_sql_database_instance.this.private_ip_address
    PGPORT     = "5432"
    PGUSER     = "postgres"
    PGDATABASE = "postgres"
    PGSSLMODE  = "require"
    ACCESS_SQL = file("${path.module}/database-access.sql")
  }

  depends_on = [google_secret_manager_secret_version.admin_password, google_secret_manager_secret_version.database_url]
}

# Reads, per database, the alembic revision and the exact row count of every table
# (database-check.sql), against the instance PGHOST names: the live one by default, a restored
# one when the restore and drill runbooks override PGHOST. Only the admin password is mounted.
module "check_job" {
  source = "../migration-job"

  project_id            = var.project_id
  region                = var.region
  name                  = "database-check"
  image                 = var.psql_image
  service_account_email = google_service_account.access_job.email
  vpc_access            = var.vpc_access
  deletion_protection   = var.deletion_protection
  labels                = var.labels
  timeout               = "300s"

  secrets = { (var.admin_secret_id) = var.mount_secret_ids[var.admin_secret_id] }

  command = ["sh", "-c", join("\n", [
    "set -eu",
    "export PGPASSWORD=\"$(cat /secrets/${var.admin_secret_id}/value)\"",
    "for db in ${join(" ", sort(var.databases))}; do psql -X -q -At -v ON_ERROR_STOP=1 -d \"$db\" -c \"$CHECK_SQL\"; done",
  ])]

  env = {
    PGHOST    = google_sql_database_instance.this.private_ip_address
    PGPORT    = "5432"
    PGUSER    = "postgres"
    PGSSLMODE = "require"
    CHECK_SQL = file("${path.module}/database-check.sql")
  }

  depends_on = [google_secret_manager_secret_version.admin_password]
}
