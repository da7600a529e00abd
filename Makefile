# The front door. Each target runs one script; `make` alone lists them.
# ENV, ENV_FILE, YES and DRY_RUN given on the command line (make preflight DRY_RUN=1) reach the
# scripts as environment variables, as do TOFU_BIN, GCLOUD_BIN and SUPABASE_BIN.

.DEFAULT_GOAL := help
SHELL := bash
RUN := node --import tsx

.PHONY: help install test typecheck preflight

help: ## List every target with one line of description
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z0-9_-]+:.*## / { printf "  %-28s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

install: ## Install the pinned tools and libraries (npm ci)
	npm ci

test: ## Run every test (needs PostgreSQL and Redis on 127.0.0.1; see README)
	npm test

typecheck: ## Type-check all TypeScript
	npm run typecheck

preflight: ## Check tools, credentials and the GCP project before any production runbook
	@$(RUN) scripts/preflight.ts
