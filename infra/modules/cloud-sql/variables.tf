variable "project_id" {
  description = "Project that hosts the instance."
  type        = string
}

variable "region" {
  description = "Region of the instance; the same as Cloud Run's."
  type        = string
}

variable "name" {
  description = "Instance name (the runbooks name it too: scripts/lib/cloud-sql.ts)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,61}[a-z0-9]$", var.name))
    error_message = "name must be lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "database_version" {
  description = "PostgreSQL major version. 16 or newer: on 15 any CREATEROLE user could grant itself an owner role."
  type        = string
  default     = "POSTGRES_16"

  validation {
    condition     = can(regex("^POSTGRES_(1[6-9]|[2-9][0-9])$", var.database_version))
    error_message = "database_version must be POSTGRES_16 or newer."
  }
}

variable "tier" {
  description = "Machine tier (Enterprise edition); shared-core and custom tiers do not exist on Enterprise Plus. See infra/README.md, Cost."
  type        = string
  default     = "db-f1-micro"

  validation {
    condition     = can(regex("^db-(f1-micro|g1-small|custom-[0-9]+-[0-9]+)$", var.tier))
    error_message = "tier must be an Enterprise-edition tier: db-f1-micro, db-g1-small or db-custom-<vCPUs>-<MB>."
  }
}

variable "disk_size_gb" {
  description = "Initial SSD size in GB (10 is the minimum); it grows by itself up to disk_autoresize_limit_gb."
  type        = number
  default     = 10
}

variable "disk_autoresize_limit_gb" {
  description = "Largest size storage may grow to, in GB."
  type        = number
  default     = 50
}

variable "backup_start_time" {
  description = "Start of the daily backup window, HH:MM UTC (the backup starts within 4 hours)."
  type        = string
  default     = "03:00"
}

variable "retained_backups" {
  description = "Automated daily backups kept."
  type        = number
  default     = 14
}

variable "network_id" {
  description = "VPC the instance takes its private address in, once private services access is connected (network module output private_services_network_id)."
  type        = string
}

variable "reserved_range" {
  description = "Name of the private services access range the instance takes its address from."
  type        = string
}

variable "databases" {
  description = "Database names (services.yaml databases)."
  type        = list(string)
}

variable "logins" {
  description = "Catalog service => its PostgreSQL login, the databases it reaches and the variable psql reads its password from (scripts/lib/database-access.ts makes the same names)."
  type = map(object({
    login        = string
    databases    = list(string)
    password_env = string
  }))
}

variable "url_secret_ids" {
  description = "\"<service>/<database>\" => the secret that receives that service's connection URL of that database."
  type        = map(string)
}

variable "admin_secret_id" {
  description = "Secret that receives the postgres password (read by the database-access job only)."
  type        = string
}

variable "mount_secret_ids" {
  description = "Secret id by name once its accessor grants exist (secrets module output secret_ids), for the job's mounts."
  type        = map(string)
}

variable "password_generation" {
  description = "Raise by one to generate new passwords for postgres and every login in one apply; the deploy's database-access job then sets them in PostgreSQL."
  type        = number
  default     = 1
}

variable "psql_image" {
  description = "Image with psql 15 or newer (\\getenv) that the database-access job runs."
  type        = string
  default     = "docker.io/library/postgres:16.6-alpine"
}

variable "vpc_access" {
  description = "Direct VPC egress of the database-access job (the instance has a private address only)."
  type = object({
    network    = string
    subnetwork = string
    egress     = string
  })
}

variable "deletion_protection" {
  description = "Refuse to delete the instance (provider and API level) and the job."
  type        = bool
}

variable "labels" {
  description = "Labels added to the instance and the job."
  type        = map(string)
  default     = {}
}
