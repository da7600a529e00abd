variable "project_id" {
  description = "Project that hosts the network."
  type        = string
}

variable "region" {
  description = "Region of the subnet (the Cloud Run region)."
  type        = string
}

variable "name" {
  description = "Name of the VPC; the subnet and other pieces derive theirs from it."
  type        = string

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,50}[a-z0-9])?$", var.name))
    error_message = "name must be a lowercase RFC 1035 name of at most 52 characters."
  }
}

variable "subnet_cidr" {
  description = "Primary range of the Cloud Run subnet. Direct VPC egress reserves addresses in blocks of 16 per revision; keep about 4 addresses free per maximum instance."
  type        = string
  default     = "10.10.0.0/24"

  validation {
    condition     = can(cidrhost(var.subnet_cidr, 0)) && tonumber(split("/", var.subnet_cidr)[1]) <= 26
    error_message = "subnet_cidr must be an IPv4 CIDR of /26 or larger, such as 10.10.0.0/24."
  }
}

variable "private_services_prefix_length" {
  description = "Size of the range reserved for private services access (Memorystore); /24 is the smallest Google accepts for a basic instance and leaves room."
  type        = number
  default     = 24

  validation {
    condition     = var.private_services_prefix_length >= 16 && var.private_services_prefix_length <= 24
    error_message = "private_services_prefix_length must be between 16 and 24."
  }
}
