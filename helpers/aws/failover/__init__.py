"""Module 3.3 (Route 53 failover) and module 4 (break and restore the primary), by AWS concern.

Each step looks for what it would create before creating it, so running a cell twice - or
after a kernel restart half-way - creates nothing twice. What the kit creates is tagged
(:mod:`helpers.aws.ownership`), which is how :mod:`helpers.aws.cleanup` tells the kit's resources
from the learner's own.

The chain a client follows once everything is in place::

    api.<domain>       failover alias ──► <city>.<domain> (PRIMARY, health-checked)
                                     └──► <other city>.<domain> (SECONDARY)
    <city>.<domain>    CNAME ──► d-xxxx.execute-api.<region>.amazonaws.com
                                  (the Regional custom domain, mapped to the API's prod stage)

One module per concern: ``zone`` (the hosted zone, its name servers, record changes),
``certificates`` (ACM), ``custom_domains`` (API Gateway), ``records`` (the regional and
failover records, and what DNS answers), ``health_check`` (Route 53's check and its
status), ``primary_break`` (module 4). Notebooks call them as ``failover.<name>``.
"""

from helpers.aws.failover.certificates import (
    VALIDATION_TTL,
    certificate,
    certificate_summaries,
    find_certificate,
    request_certificates,
    wait_for_certificates,
    write_validation_records,
)
from helpers.aws.failover.common import ROUTE53_REGION, STAGE, FailoverSetupError, route53
from helpers.aws.failover.custom_domains import (
    DOMAIN_CREATION_PATIENCE_S,
    DOMAIN_CREATION_WINDOW_S,
    create_custom_domains,
    custom_domain,
    custom_domain_names,
)
from helpers.aws.failover.health_check import (
    HEALTHY_FRACTION,
    STATUS_REUSE_SECONDS,
    checked_host,
    checker_count,
    checker_regions,
    create_health_check,
    find_health_check,
    health_check_id,
    health_check_settings,
    health_check_status,
    healthy_fraction,
    kit_health_checks,
    route53_verdict,
    status_sample,
    wait_until_healthy,
    wait_until_unhealthy,
)
from helpers.aws.failover.primary_break import BROKEN, RESTORED, break_primary, restore_primary
from helpers.aws.failover.records import (
    NEGATIVE_TTL_S,
    REGIONAL_TTL,
    ChangeBatch,
    answer_region,
    api_url,
    client_dns_answer,
    create_failover_records,
    create_regional_records,
    dns_answer,
    failover_records,
    record_sets,
    regional_url,
    serving_region,
    set_identifier,
    wait_until_resolves,
)
from helpers.aws.failover.zone import (
    change_records,
    find_hosted_zone,
    hosted_zone,
    is_kit_zone,
    name_servers,
    records,
)

__all__ = [
    "BROKEN", "DOMAIN_CREATION_PATIENCE_S", "DOMAIN_CREATION_WINDOW_S", "HEALTHY_FRACTION",
    "NEGATIVE_TTL_S", "REGIONAL_TTL", "RESTORED", "ROUTE53_REGION", "STAGE",
    "STATUS_REUSE_SECONDS", "VALIDATION_TTL", "ChangeBatch", "FailoverSetupError",
    "answer_region", "api_url",
    "certificate", "certificate_summaries", "change_records", "checked_host", "checker_count",
    "checker_regions", "health_check_settings", "route53_verdict", "status_sample",
    "client_dns_answer", "create_custom_domains", "create_failover_records",
    "create_health_check", "create_regional_records", "custom_domain", "custom_domain_names",
    "dns_answer", "failover_records", "find_certificate", "find_health_check",
    "find_hosted_zone", "health_check_id", "health_check_status", "healthy_fraction",
    "hosted_zone", "is_kit_zone", "kit_health_checks", "name_servers", "record_sets",
    "records", "regional_url", "request_certificates", "restore_primary", "route53",
    "serving_region", "set_identifier", "wait_for_certificates", "wait_until_healthy",
    "wait_until_resolves", "wait_until_unhealthy", "write_validation_records", "break_primary",
]
