# Read by the scripts with `tofu output -json`. Names only: no output carries a secret value.

output "project_id" {
  description = "Project that hosts production."
  value       = var.project_id
}

output "region" {
  description = "Region of the services."
  value       = var.region
}

output "image_tag" {
  description = "Image tag this state deployed; state backups record it so a rollback can re-apply it."
  value       = var.image_tag
}

output "deployed_commit" {
  description = "Commit whose configuration produced this state (the deploy passes git rev-parse HEAD)."
  value       = var.git_commit
}

output "client_internal_id_mode" {
  description = "The gateway's CLIENT_INTERNAL_ID_MODE; every deploy reads it back so a cutover stays in place."
  value       = var.client_internal_id_mode
}

output "gateway_url" {
  description = "Public URL of the gateway: the front door's https://<edge_domain> once edge_only is set, else its run.app URL."
  value       = local.public_url
}

output "edge" {
  description = "The front door (edge_domain set): the address its DNS A record points at, its URL, its Cloud Armor policy and certificate; null without one."
  value = local.edge ? {
    ip_address      = module.edge["edge"].ip_address
    url             = module.edge["edge"].url
    security_policy = module.edge["edge"].security_policy
    certificate     = module.edge["edge"].certificate
  } : null
}

output "service_urls" {
  description = "URL of every service, by catalog name (mesh URLs answer only from inside the VPC)."
  value = merge(
    { gateway = module.gateway.uri },
    { for name, service in module.mesh_service : name => service.uri },
  )
}

output "service_accounts" {
  description = "Runtime service account email of every service, by catalog name."
  value = merge(
    { gateway = module.gateway.service_account_email },
    { for name, service in module.mesh_service : name => service.service_account_email },
  )
}

output "migration_jobs" {
  description = "Cloud Run job that migrates each database, by database name."
  value       = { for db, job in module.migration_job : db => job.name }
}

output "redis_host" {
  description = "Private address of the gateway's Memorystore instance."
  value       = module.redis.host
}

output "redis_instance" {
  description = "Name of the Memorystore instance, for `gcloud redis instances get-auth-string`."
  value       = module.redis.name
}

output "secret_names" {
  description = "Secret Manager secrets whose values the bootstrap adds (names only)."
  value       = module.secrets.names
}

output "artifact_registry" {
  description = "Image prefix: <region>-docker.pkg.dev/<project>/<repository>."
  value       = module.registry.image_base
}

output "workload_identity_provider" {
  description = "Workload Identity provider for GitHub Actions (vars.WIF_PROVIDER)."
  value       = module.ci_identity.workload_identity_provider
}

output "drift_service_account" {
  description = "Read-only account the drift workflow impersonates (vars.DRIFT_SERVICE_ACCOUNT)."
  value       = module.ci_identity.drift_checker_email
}

output "deployer_service_account" {
  description = "Deployer account GitHub Actions impersonates (vars.DEPLOYER_SERVICE_ACCOUNT)."
  value       = module.ci_identity.deployer_email
}

output "state_bucket" {
  description = "Bucket that holds this configuration's state."
  value       = google_storage_bucket.state.name
}

output "database_mode" {
  description = "Where the application databases live: cloudsql or external."
  value       = var.database_mode
}

output "database_instance" {
  description = "Cloud SQL instance of the application databases (empty when external), for the backup and restore runbooks."
  value       = local.cloud_sql ? module.cloud_sql[local.database_instance].name : ""
}

output "database_access_job" {
  description = "Cloud Run job that applies the least-privilege SQL (empty when external)."
  value       = local.cloud_sql ? module.cloud_sql[local.database_instance].access_job : ""
}

output "database_check_job" {
  description = "Cloud Run job that reads each database's alembic revision and row counts (empty when external)."
  value       = local.cloud_sql ? module.cloud_sql[local.database_instance].check_job : ""
}
