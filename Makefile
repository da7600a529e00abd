# The front door. Each target runs one script; `make` alone lists them, and `make <target>
# HELP=1` lists every variable that target reads. Variables given on the command line (make
# preflight DRY_RUN=1, BACKUP=, SERVICE=, ...) reach the scripts as environment variables; one
# the target does not read, or an empty one, is refused before anything runs. make exits 2 on
# any failure; its last line ("Error N") carries the script's own code: 1 a step failed, 2 bad
# input, 130 interrupted.

.DEFAULT_GOAL := help
SHELL := bash
# --no-webstorage: Node 26 warns about localStorage when Hive Gateway's cache probes for it.
RUN := node --no-webstorage --import tsx

.PHONY: help install test typecheck local-deploy local-up local-down local-status local-logs \
	spoof-check voucher-e2e load-test gateway preflight production-bootstrap production-secrets \
	production-supabase production-deploy production-verify production-backup-state \
	production-backups production-rollback production-rollback-traffic production-restore-state \
	production-db-backup production-db-restore production-db-drill \
	production-plan production-status production-cutover production-revoke-session production-secrets-status production-rotate-secret production-cost infra-validate ci-changed-services ci-workflows bench-gateway bench-rls bench-deploy bench-infra

help: ## List every target with one line of description
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z0-9_-]+:.*## / { printf "  %-28s %s\n", $$1, $$2 } END { print "\nmake <target> HELP=1 lists every variable a target reads; make <target> DRY_RUN=1 prints its commands." }' $(MAKEFILE_LIST)

install: ## Install the pinned tools and libraries (npm ci)
	npm ci

test: ## Run every test (needs PostgreSQL and Redis on 127.0.0.1; see README)
	npm test

typecheck: ## Type-check all TypeScript
	npm run typecheck

local-deploy: ## The whole stack on 127.0.0.1, no cloud account, then the spoof and voucher checks
	@$(RUN) scripts/local-deploy.ts

local-up: ## Start the local stack (what is not running yet), without the checks
	@$(RUN) scripts/local-up.ts

local-down: ## Stop every part of the local stack and free its ports (data stays in .local/)
	@$(RUN) scripts/local-down.ts

local-status: ## Show which local parts run, their pids, health and addresses
	@$(RUN) scripts/local-status.ts

local-logs: ## Show the end of every local part's log (LINES=<n>)
	@$(RUN) scripts/local-logs.ts

spoof-check: ## Try every way to be another user; exit 1 on a leak (TARGET=local|production, --json via JSON=1)
	@$(RUN) scripts/spoof-check.ts

voucher-e2e: ## Sign up, redeem a voucher, log a workout, clean up (TARGET=local|production)
	@$(RUN) scripts/voucher-e2e.ts

load-test: ## Real users' load on the gateway: p50/p95/p99 and errors vs the p95 objective (TARGET=, USERS=, RATE=, DURATION=)
	@$(RUN) scripts/load-test.ts

gateway: ## Run the gateway in the foreground from its environment (PORT, default 4000)
	@$(RUN) gateway/src/main.ts

preflight: ## Check tools, credentials and the GCP project before any production runbook
	@$(RUN) scripts/preflight.ts

production-bootstrap: ## Once per project: enable the APIs, create the versioned state bucket
	@$(RUN) scripts/production-bootstrap.ts

production-secrets: ## Store database URLs and API keys in Secret Manager (only changed values)
	@$(RUN) scripts/production-secrets.ts

production-supabase: ## Push Supabase migrations, diff the auth config, keep its keys in Secret Manager
	@$(RUN) scripts/production-supabase.ts

production-deploy: ## Ship IMAGE_TAG: plan, confirm, apply, migrate, verify (YES=1: no prompts)
	@$(RUN) scripts/production-deploy.ts

production-verify: ## Check the gateway and every service are up and serving their latest revision
	@$(RUN) scripts/production-verify.ts

production-status: ## How production is doing, one read-only screen (JSON=1 for machines); exit 1 if a source was unreadable
	@$(RUN) scripts/production-status.ts

production-cutover: ## Gateway rejects client-sent identity headers, after 7 days without one (FORCE=1 asks; MODE=ignore goes back)
	@$(RUN) scripts/production-cutover.ts

production-revoke-session: ## The gateway refuses every current token of USER_ID=<supabase user id> within 30 s
	@$(RUN) scripts/production-revoke-session.ts

production-secrets-status: ## Every secret: who reads it, its age, enabled versions, and which are due for rotation (JSON=1)
	@$(RUN) scripts/production-secrets-status.ts

production-rotate-secret: ## New value for SECRET= (VALUE_FILE= or asked), readers rolled and verified, then the old version disabled; ROLLBACK=1 goes back
	@$(RUN) scripts/production-rotate-secret.ts

production-plan: ## Does production match the code? Read-only plan, no locks; exit 0 in sync, 2 drifted (the script's own code)
	@$(RUN) scripts/production-plan.ts

production-cost: ## Estimate the monthly cost of the configuration checked out (changes nothing)
	@$(RUN) scripts/production-cost.ts

production-backup-state: ## Back up the OpenTofu state (owner-only local copy and the state bucket)
	@$(RUN) scripts/production-backup-state.ts

production-backups: ## List the state backups, newest first
	@$(RUN) scripts/production-backups.ts

production-rollback: ## Roll back: traffic first, then re-apply a backup's configuration (BACKUP=<id>)
	@$(RUN) scripts/production-rollback.ts

production-rollback-traffic: ## Route every service back to its previous revision (SERVICE= REVISION= for one)
	@$(RUN) scripts/production-rollback-traffic.ts

production-restore-state: ## Recover lost or corrupted state from a backup (BACKUP=<id>)
	@$(RUN) scripts/production-restore-state.ts

production-db-backup: ## Back up the application databases (on-demand Cloud SQL backup, waited for)
	@$(RUN) scripts/production-db-backup.ts

production-db-restore: ## Restore the databases into a NEW instance, verify, then switch the URLs (POINT_IN_TIME= or BACKUP_ID=)
	@$(RUN) scripts/production-db-restore.ts

production-db-drill: ## Rehearse a database restore into a throwaway instance and time each step
	@$(RUN) scripts/production-db-drill.ts

infra-validate: ## tofu fmt -check and tofu validate on infra/ (needs OpenTofu and the provider downloads)
	@$(RUN) scripts/infra-validate.ts

ci-changed-services: ## Print which services a release from BASE to HEAD would build
	@$(RUN) scripts/ci-changed-services.ts

ci-workflows: ## Regenerate the service lists in .github/workflows from services.yaml
	@$(RUN) scripts/lib/workflow-catalog.ts

bench-gateway: ## Benchmark the gateway: identity and protections on vs off, under attack, first-request burst, memory (bench/gateway)
	@$(RUN) bench/gateway/run.ts

bench-rls: ## Benchmark RLS: a user's select through the policies vs service_role's explicit filter
	@$(RUN) bench/rls/rls-select.ts

bench-deploy: ## Benchmark the runbooks' own time and concurrency against the fakes (bench/deploy)
	@$(RUN) bench/deploy/deploy.bench.ts

bench-infra: ## Benchmark parsing and checking the OpenTofu configuration (bench/infra)
	@$(RUN) bench/infra/render.bench.ts
