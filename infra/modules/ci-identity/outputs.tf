output "workload_identity_provider" {
  description = "Full name of the provider, for google-github-actions/auth's workload_identity_provider."
  value       = google_iam_workload_identity_pool_provider.github.name
}

output "deployer_email" {
  description = "Email of the deployer account, for google-github-actions/auth's service_account."
  value       = google_service_account.deployer.email
}

output "deployer_member" {
  description = "The deployer as an IAM member."
  value       = google_service_account.deployer.member
}

output "drift_checker_email" {
  description = "Email of the read-only drift checker, for the drift workflow's service_account."
  value       = google_service_account.drift_checker.email
}

output "drift_checker_member" {
  description = "The drift checker as an IAM member."
  value       = google_service_account.drift_checker.member
}
