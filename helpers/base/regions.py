"""AWS regions the kit knows: their city label and their sandbox address.

The city label names the regional subdomain (``ireland.<domain>``), as the
workshop does for its two default regions.
"""

from __future__ import annotations

# Route 53 is global: its API is called in us-east-1.
ROUTE53_REGION = "us-east-1"

# region -> city label used for the regional DNS name
CITY_LABELS: dict[str, str] = {
    "us-east-1": "virginia",
    "us-east-2": "ohio",
    "us-west-1": "california",
    "us-west-2": "oregon",
    "af-south-1": "capetown",
    "ap-east-1": "hongkong",
    "ap-south-1": "mumbai",
    "ap-south-2": "hyderabad",
    "ap-northeast-1": "tokyo",
    "ap-northeast-2": "seoul",
    "ap-northeast-3": "osaka",
    "ap-southeast-1": "singapore",
    "ap-southeast-2": "sydney",
    "ap-southeast-3": "jakarta",
    "ap-southeast-4": "melbourne",
    "ca-central-1": "montreal",
    "ca-west-1": "calgary",
    "eu-central-1": "frankfurt",
    "eu-central-2": "zurich",
    "eu-west-1": "ireland",
    "eu-west-2": "london",
    "eu-west-3": "paris",
    "eu-north-1": "stockholm",
    "eu-south-1": "milan",
    "eu-south-2": "spain",
    "il-central-1": "telaviv",
    "me-central-1": "uae",
    "me-south-1": "bahrain",
    "sa-east-1": "saopaulo",
}

DEFAULT_PRIMARY = "eu-west-1"
DEFAULT_SECONDARY = "ap-southeast-1"

_ORDERED = sorted(CITY_LABELS)


def city_label(region: str) -> str:
    return CITY_LABELS[region]


def sandbox_ip(region: str) -> str:
    """The loopback address that plays this region in the sandbox.

    Linux routes all of 127.0.0.0/8 to the loopback interface, so each region
    gets an address of its own and DNS alone decides which region answers.
    """
    return f"127.0.0.{10 + _ORDERED.index(region)}"

