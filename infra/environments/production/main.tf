# Production: every service of the catalog (services.yaml, the same file the scripts and CI
# read) on Cloud Run v2 behind one public gateway, with their network, cache, secrets, images,
# migrations, monitoring and the identity CI deploys with.

locals {
  catalog   = yamldecode(file("${path.module}/../../../services.yaml"))
  services  = local.catalog.services
  databases = local.catalog.databases

  # The gateway is the only public service; every other one is a mesh service behind it.
  gateway = local.services["gateway"]
  mesh    = { for name, service in local.services : name => service if service.ingress == "internal" }

  # Where the databases live (var.database_mode): "cloudsql", this configuration's instance, with
  # one login per service that reaches a database and URLs OpenTofu writes; or "external",
  # databases elsewhere whose URLs a person stores with make production-secrets.
  cloud_sql = var.database_mode == "cloudsql"
  # The runbooks name the instance too (scripts/lib/cloud-sql.ts); a test keeps the two equal.
  database_instance = "mindmirror-pg"

  # Cloud SQL mode: each service that reaches a database logs in as itself (the names
  # scripts/lib/database-access.ts gives the roles it creates).
  database_logins = {
    for name, service in local.services : name => {
      login        = replace(name, "-", "_")
      databases    = sort(service.databases)
      password_env = "DB_PASSWORD_${upper(replace(name, "-", "_"))}"
    } if length(service.databases) > 0
  }
  # The secret behind a service's connection to one database: its own URL (its own login) on
  # Cloud SQL, the database's shared URL when external. It is mounted under the database's
  # secret name either way, so the service reads the same file.
  database_url_secret = merge([
    for name, service in local.services : {
      for db in service.databases : "${name}/${db}" => local.cloud_sql ? "db-${db}-${name}" : local.databases[db].secret
    }
  ]...)

  # What a service mounts, mount name => secret: its own secrets plus the connection secret of
  # each database it reaches.
  secret_mounts = {
    for name, service in local.services : name => merge(
      { for secret in service.secrets : secret => secret },
      { for db in service.databases : local.databases[db].secret => local.database_url_secret["${name}/${db}"] },
    )
  }
  mounted_secrets  = { for name, mounts in local.secret_mounts : name => sort(distinct(values(mounts))) }
  database_secrets = local.cloud_sql ? concat(["database-admin-password"], values(local.database_url_secret)) : []
  secret_names     = sort(distinct(concat(flatten(values(local.mounted_secrets)), local.database_secrets)))
  # Secrets OpenTofu writes itself (from the resource that generates the value); the rest are
  # created, with their values, by make production-secrets and make production-supabase.
  tofu_written_secrets = concat(["redis-auth", "revoked-sessions"], local.database_secrets)

  # How long each secret's value may live (services.yaml secret_rotation, which make
  # production-secrets-status reads too): it becomes the secret's rotation schedule.
  rotation = local.catalog.secret_rotation
  rotation_days = {
    for secret in local.secret_names : secret => lookup(local.rotation.days, secret, local.rotation.default_days)
    if !contains(local.rotation.never, secret)
  }

  # Every service sends private-range traffic into the VPC. *.run.app resolves to
  # private.googleapis.com there (network module), so the gateway's calls to internal-only
  # services arrive through the VPC, while internet-bound traffic (Supabase, OpenAI) keeps
  # Cloud Run's own path and needs no Cloud NAT.
  vpc_access = {
    network    = module.network.network_id
    subnetwork = module.network.subnet_id
    egress     = "PRIVATE_RANGES_ONLY"
  }

  image = { for name, service in local.services : name => "${module.registry.image_base}/${service.image}:${var.image_tag}" }

  # The secret id each mount takes: readable by its services (secrets module), and on Cloud SQL a
  # database URL only once OpenTofu has written it (cloud-sql module), so no revision starts
  # before its URL exists. Precise dependencies, not depends_on on whole modules: the instance's
  # jobs read secrets whose grants name the services' accounts.
  ready_secret_ids = merge(
    module.secrets.secret_ids,
    { for key, id in try(module.cloud_sql[local.database_instance].url_secrets, {}) : local.database_url_secret[key] => id },
  )

  labels = { app = "mindmirror", environment = "production" }

  # The front door (var.edge_domain): with it, an external load balancer and Cloud Armor stand in
  # front of the gateway. The apps move to the domain once its certificate is active; then
  # var.edge_only closes the run.app URL to the internet, and the domain becomes the URL every
  # check and the uptime probe call.
  edge       = var.edge_domain != ""
  public_url = var.edge_only ? "https://${var.edge_domain}" : module.gateway.uri
  # Services carry the commit they were deployed from, so a revision can be traced to source.
  service_labels = merge(local.labels, var.git_commit == "" ? {} : { git-commit = var.git_commit })
}

module "network" {
  source = "../../modules/network"

  project_id  = var.project_id
  region      = var.region
  name        = "mindmirror"
  subnet_cidr = var.subnet_cidr

  depends_on = [google_project_service.required]
}

module "redis" {
  source = "../../modules/redis"

  project_id          = var.project_id
  region              = var.region
  name                = "gateway-identity-cache"
  network_id          = module.network.private_services_network_id
  reserved_range      = module.network.private_services_range
  memory_size_gb      = var.redis_memory_size_gb
  tier                = var.redis_tier
  auth_secret_id      = module.secrets.ids["redis-auth"]
  deletion_protection = var.deletion_protection
  labels              = local.labels
}

# The application databases (database_mode "cloudsql"): see infra/modules/cloud-sql. The
# instance takes its private address from the private services access range Memorystore uses.
module "cloud_sql" {
  source   = "../../modules/cloud-sql"
  for_each = toset(local.cloud_sql ? [local.database_instance] : [])

  project_id          = var.project_id
  region              = var.region
  name                = each.value
  tier                = var.database_tier
  network_id          = module.network.private_services_network_id
  reserved_range      = module.network.private_services_range
  databases           = sort(keys(local.databases))
  logins              = local.database_logins
  url_secret_ids      = { for key, secret in local.database_url_secret : key => module.secrets.ids[secret] }
  admin_secret_id     = module.secrets.ids["database-admin-password"]
  mount_secret_ids    = module.secrets.secret_ids
  password_generation = var.database_password_generation
  vpc_access          = local.vpc_access
  deletion_protection = var.deletion_protection
  labels              = local.labels

  depends_on = [google_project_service.required]
}

module "registry" {
  source = "../../modules/registry"

  project_id = var.project_id
  region     = var.region
  writers    = { deployer = module.ci_identity.deployer_member }
  labels     = local.labels

  depends_on = [google_project_service.required]
}

module "secrets" {
  source = "../../modules/secrets"

  project_id     = var.project_id
  project_number = data.google_project.this.number
  secret_ids     = local.secret_names
  rotation_days  = local.rotation_days
  labels         = local.labels

  # Each secret is readable by exactly the services that mount it (and so by their migration
  # jobs, which run as the owning service's account).
  accessors = {
    for secret in local.secret_names : secret => merge(
      {
        for name, mounts in local.mounted_secrets : name => (name == "gateway" ? module.gateway.service_account_member : module.mesh_service[name].service_account_member)
        if contains(mounts, secret)
      },
      # The database jobs learn the admin's and the logins' passwords from these. Only this one
      # output of the module is named: its jobs mount secrets whose grants are made here.
      contains(local.database_secrets, secret) ? try({ "database-access" = module.cloud_sql[local.database_instance].access_job_member }, {}) : {},
    )
  }

  depends_on = [google_project_service.required]
}

# The gateway's revoked-sessions list starts empty; make production-revoke-session adds versions
# (never this resource). The gateway's revision mounts it, so it holds a version before that.
resource "google_secret_manager_secret_version" "revoked_sessions_initial" {
  secret                 = module.secrets.ids["revoked-sessions"]
  secret_data_wo         = "# Revoked sessions, one per line: <supabase user id> <revoked at, ISO 8601> (make production-revoke-session)\n"
  secret_data_wo_version = 1
}

module "mesh_service" {
  source   = "../../modules/cloud-run-service"
  for_each = local.mesh

  project_id          = var.project_id
  region              = var.region
  name                = each.key
  image               = local.image[each.key]
  port                = each.value.port
  ingress             = "INGRESS_TRAFFIC_INTERNAL_ONLY"
  min_instances       = each.value.min_instances
  max_instances       = each.value.max_instances
  cpu                 = each.value.cpu
  memory              = each.value.memory
  health_path         = each.value.health_path
  vpc_access          = local.vpc_access
  secrets             = { for mount, secret in local.secret_mounts[each.key] : mount => local.ready_secret_ids[secret] }
  deletion_protection = var.deletion_protection
  labels              = local.service_labels

  env = merge(
    {
      ENVIRONMENT = "production"
      IMAGE_TAG   = var.image_tag
    },
    lookup(var.service_env, each.key, {}),
  )

  # Internal ingress keeps the internet out; IAM keeps every other caller in the VPC out too.
  invokers = { gateway = module.gateway.service_account_member }

  depends_on = [google_project_service.required]
}

module "gateway" {
  source = "../../modules/cloud-run-service"

  project_id          = var.project_id
  region              = var.region
  name                = "gateway"
  image               = local.image["gateway"]
  port                = local.gateway.port
  ingress             = var.edge_only ? "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER" : "INGRESS_TRAFFIC_ALL"
  min_instances       = local.gateway.min_instances
  max_instances       = local.gateway.max_instances
  cpu                 = local.gateway.cpu
  memory              = local.gateway.memory
  health_path         = local.gateway.health_path
  vpc_access          = local.vpc_access
  secrets             = { for mount, secret in local.secret_mounts["gateway"] : mount => module.secrets.secret_ids[secret] }
  deletion_protection = var.deletion_protection
  labels              = local.service_labels

  # cloudtrace.agent: the gateway exports its own spans (TRACE_EXPORTER below).
  service_account_roles = ["roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/cloudtrace.agent"]

  # REDIS_PASSWORD_FILE: the redis-auth secret's mount, under the name the gateway reads.
  # REVOKED_SESSIONS_FILE: users signed out by an admin before their 24 h tokens expire; Cloud
  # Run reads the secret's latest version at each read, so the gateway sees a new list in 30 s.
  # TRUSTED_PROXY_HOPS: Cloud Run's front end appends the caller's address to X-Forwarded-For,
  # which the gateway's per-address rate limit reads. FRONT_DOOR_HOST (with edge_domain): a
  # request naming the front door's host came through its load balancer too, which appended one
  # more entry, so its caller is the second from the right; the run.app URL's stay the first.
  # GOOGLE_CLOUD_PROJECT: log lines of a traced request name their trace in this project.
  # TRACE_EXPORTER, TRACE_SAMPLE_RATIO: the gateway's spans go to Cloud Trace; requests Cloud Run
  # sampled are always traced, the others at this ratio.
  # CLIENT_INTERNAL_ID_MODE: ignore until make production-cutover has seen 7 days without a
  # client-sent identity header; every deploy keeps the mode production runs.
  env = merge(
    {
      NODE_ENV                = "production"
      IMAGE_TAG               = var.image_tag
      SUPABASE_URL            = var.supabase_url
      USERS_SERVICE_URL       = "${module.mesh_service["users-service"].uri}/graphql"
      REDIS_URL               = "redis://${module.redis.host}:${module.redis.port}"
      REDIS_PASSWORD_FILE     = "/secrets/redis-auth/value"
      REVOKED_SESSIONS_FILE   = "/secrets/revoked-sessions/value"
      SUBGRAPH_ID_TOKENS      = "true"
      TRUSTED_PROXY_HOPS      = "1"
      GOOGLE_CLOUD_PROJECT    = var.project_id
      CLIENT_INTERNAL_ID_MODE = var.client_internal_id_mode
      TRACE_EXPORTER          = "cloud-trace"
      TRACE_SAMPLE_RATIO      = tostring(var.trace_sample_ratio)
    },
    local.edge ? { FRONT_DOOR_HOST = var.edge_domain } : {},
    lookup(var.service_env, "gateway", {}),
  )

  # The public front door: anyone may call it; it verifies the Supabase JWT itself. Behind the
  # edge too: the load balancer calls it without a Google identity.
  invokers = { public = "allUsers" }

  # Its revision mounts redis-auth and revoked-sessions, which must hold a version before the
  # revision starts.
  depends_on = [google_project_service.required, module.redis, google_secret_manager_secret_version.revoked_sessions_initial]
}

module "edge" {
  source   = "../../modules/edge"
  for_each = toset(local.edge ? ["edge"] : [])

  project_id           = var.project_id
  region               = var.region
  name                 = "mindmirror-edge"
  cloud_run_service    = module.gateway.name
  domain               = var.edge_domain
  requests_per_minute  = var.edge_requests_per_minute
  ban_duration_seconds = var.edge_ban_seconds
  labels               = local.labels

  depends_on = [google_project_service.required]
}

module "migration_job" {
  source   = "../../modules/migration-job"
  for_each = local.databases

  project_id            = var.project_id
  region                = var.region
  name                  = "migrate-${each.key}"
  image                 = local.image[each.value.migrate_with]
  service_account_email = module.mesh_service[each.value.migrate_with].service_account_email
  secrets               = { for mount, secret in local.secret_mounts[each.value.migrate_with] : mount => local.ready_secret_ids[secret] }
  vpc_access            = local.vpc_access
  deletion_protection   = var.deletion_protection
  labels                = local.labels

  env = merge(
    {
      ENVIRONMENT = "production"
      IMAGE_TAG   = var.image_tag
    },
    lookup(var.service_env, each.value.migrate_with, {}),
  )
}

module "monitoring" {
  source = "../../modules/monitoring"

  project_id         = var.project_id
  project_number     = data.google_project.this.number
  alert_email        = var.alert_email
  gateway_url        = local.public_url
  users_service      = "users-service"
  runbook_url        = "https://github.com/${var.github_repository}/blob/main/docs/infrastructure/production-deployment.md"
  billing_account_id = var.billing_account_id
  monthly_budget_usd = var.monthly_budget_usd

  secret_rotation_subscription = module.secrets.rotation_subscription

  # While both doors are open; with edge_only the domain is gateway_url itself.
  front_door_url = local.edge && !var.edge_only ? "https://${var.edge_domain}" : ""
  # Its refusals raise an alert (one mail an hour at most).
  edge_security_policy = local.edge ? module.edge["edge"].security_policy : ""

  depends_on = [google_project_service.required]
}

module "ci_identity" {
  source = "../../modules/ci-identity"

  project_id             = var.project_id
  github_repository          = var.github_repository
  github_repository_id       = var.github_repository_id
  github_repository_owner_id = var.github_repository_owner_id
  github_environment         = var.github_environment
  deployer_project_roles     = var.deployer_project_roles

  runtime_service_accounts = merge(
    { gateway = module.gateway.service_account_id },
    { for name, service in module.mesh_service : name => service.service_account_id },
  )

  depends_on = [google_project_service.required]
}
