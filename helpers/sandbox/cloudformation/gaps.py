"""CloudFormation resources moto skips or only half creates, made real.

A stack that "succeeds" without its resources would teach the wrong thing.
Measured on moto 5.2.5 with the kit's templates, and fixed here through moto's
CloudFormation model registry (``moto.cloudformation.parsing``):

* ignored types (only a warning, the stack still CREATE_COMPLETE):
  ``AWS::S3::BucketPolicy`` and ``AWS::ApiGateway::Stage`` get models of their
  own (create, update, delete; ``Ref`` gives the bucket name / stage name);
* dropped properties: a Bucket's WebsiteConfiguration, PublicAccessBlock and
  OwnershipControls; a Method's MethodResponses, RequestTemplates and
  IntegrationResponses (and a MOCK integration, with no IntegrationHttpMethod,
  failed the whole stack); a RestApi's EndpointConfiguration and Tags; a
  Function's Tags; a Table's PointInTimeRecoverySpecification; tags of an
  EventSourceMapping (stored as a list, so ListTags broke);
* deletion: a RestApi (with its resources) stayed behind after its stack;
* ``Ref`` to a Deployment gave moto's object instead of the deployment id;
* an update of a type without an update handler replaced the resource by
  None in the stack, breaking every later ``Ref`` to it;
* a resource that fails to create (a Lambda zip that is not in its bucket, a
  name already taken) made CreateStack itself answer with an error the SDK
  cannot even parse; on AWS the stack is created, the resource reports
  CREATE_FAILED with the reason, and the stack rolls back to
  ROLLBACK_COMPLETE (the kit's ``stacks.deploy`` then says why, and deletes
  and recreates the stack on the next try). The sandbox now does the same;
* an IAM Role's inline policies were stored as Python's repr of the
  template's mapping, so GetRolePolicy returned a document no JSON parser
  reads; they are stored as JSON, as IAM does;
* an update that turns a resource's ``Condition`` false left the resource in
  place (and one turned true was never created): moto diffs the resources'
  JSON, not their conditions. On AWS the resource is deleted (created) with
  the update; the sandbox does the same -- the API template's ``OwnsTable``
  (notebook 04.1) relies on it;
* deleting a stack one of whose resources was already deleted by hand (a
  table deleted in the console) failed DeleteStack with an unparsable error;
  CloudFormation counts a resource that is not there as deleted;
* a resource that cannot be deleted (a REST API over the account's DeleteRestApi
  quota, :mod:`helpers.sandbox.quotas`) made DeleteStack fail and moto forgot the
  stack; on AWS the stack ends in DELETE_FAILED with the resource's reason, and
  DeleteStack retries it.
"""

from __future__ import annotations

import contextlib
import json
import logging
from typing import Any
from xml.sax.saxutils import escape

from moto.core.common_models import CloudFormationModel

log = logging.getLogger("helpers.sandbox.cloudformation.gaps")


def _tags(cfn_tags: Any) -> dict[str, str]:
    """CloudFormation's ``[{"Key", "Value"}]`` list as the ``{key: value}`` moto stores."""
    if isinstance(cfn_tags, dict):
        return dict(cfn_tags)
    return {t["Key"]: t["Value"] for t in cfn_tags or []}


def _s3_backend(account_id: str, region_name: str) -> Any:
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    return s3_backends[account_id][get_partition(region_name)]


def _apigw_backend(account_id: str, region_name: str) -> Any:
    from moto.apigateway.models import apigateway_backends

    return apigateway_backends[account_id][region_name]


def _ref_id(value: Any) -> str:
    """A ``Ref`` moto could not turn into an id (no physical_resource_id) is the model itself."""
    return getattr(value, "id", value)


# ---------------------------------------------------------------- AWS::S3::BucketPolicy
class S3BucketPolicy(CloudFormationModel):
    """The bucket's policy; ``Ref`` returns the bucket name, as in the resource's schema."""

    def __init__(self, account_id: str, region_name: str, bucket: str) -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.bucket = bucket

    @property
    def physical_resource_id(self) -> str:
        return self.bucket

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> S3BucketPolicy:
        props = cloudformation_json["Properties"]
        policy = props["PolicyDocument"]
        if not isinstance(policy, str):
            policy = json.dumps(policy)
        _s3_backend(account_id, region_name).put_bucket_policy(props["Bucket"], policy.encode())
        return cls(account_id, region_name, props["Bucket"])

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: S3BucketPolicy, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> S3BucketPolicy:
        new_bucket = cloudformation_json["Properties"]["Bucket"]
        if new_bucket != original_resource.bucket:
            original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.s3.exceptions import MissingBucket

        with contextlib.suppress(MissingBucket):  # the bucket went first: nothing to remove
            _s3_backend(account_id, region_name).delete_bucket_policy(self.bucket)

    def is_created(self) -> bool:
        return True


# ---------------------------------------------------------------- AWS::ApiGateway::Stage
class ApiGatewayStage(CloudFormationModel):
    """A stage pointing at a deployment; ``Ref`` returns the stage name."""

    def __init__(self, account_id: str, region_name: str, rest_api_id: str, name: str) -> None:
        self.account_id = account_id
        self.region_name = region_name
        self.rest_api_id = rest_api_id
        self.name = name

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "StageName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGateway::Stage"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> ApiGatewayStage:
        props = cloudformation_json["Properties"]
        rest_api_id = _ref_id(props["RestApiId"])
        backend = _apigw_backend(account_id, region_name)
        backend.create_stage(
            rest_api_id,
            resource_name,
            _ref_id(props.get("DeploymentId")),
            variables=props.get("Variables") or {},
            description=props.get("Description", ""),
            cacheClusterEnabled=_bool(props.get("CacheClusterEnabled", False)),
            cacheClusterSize=props.get("CacheClusterSize"),
            tags=_tags(props.get("Tags")) or None,
            tracing_enabled=_bool(props["TracingEnabled"]) if "TracingEnabled" in props else None,
        )
        return cls(account_id, region_name, rest_api_id, resource_name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource: ApiGatewayStage, new_resource_name: str,
        cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> ApiGatewayStage:
        props = cloudformation_json["Properties"]
        name = props.get("StageName", original_resource.name)
        rest_api_id = _ref_id(props["RestApiId"])
        if (rest_api_id, name) != (original_resource.rest_api_id, original_resource.name):
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(
                name, cloudformation_json, account_id, region_name)
        # Same stage: repoint it (a new deployment) and refresh what may change in place.
        stage = _apigw_backend(account_id, region_name).get_stage(rest_api_id, name)
        stage.deployment_id = _ref_id(props.get("DeploymentId"))
        stage.description = props.get("Description", "")
        stage.variables = props.get("Variables") or {}
        stage.tags = _tags(props.get("Tags")) or None
        return original_resource

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.apigateway.exceptions import RestAPINotFound, StageNotFoundException

        with contextlib.suppress(RestAPINotFound, StageNotFoundException):
            _apigw_backend(account_id, region_name).delete_stage(self.rest_api_id, self.name)

    def is_created(self) -> bool:
        return True


def _bool(value: Any) -> bool:
    # Template values arrive as YAML booleans or as the strings "true"/"false".
    return value if isinstance(value, bool) else str(value).lower() == "true"


# ---------------------------------------------------------------- AWS::ApiGateway::Method
def _method_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
    """moto reads only Type/Uri/IntegrationHttpMethod (and fails without the latter, as
    MOCK integrations have none); AWS applies the whole Integration and MethodResponses."""
    props = cloudformation_json["Properties"]
    api_id, res_id = _ref_id(props["RestApiId"]), _ref_id(props["ResourceId"])
    http_method = props["HttpMethod"]
    backend = _apigw_backend(account_id, region_name)
    method = backend.put_method(
        function_id=api_id,
        resource_id=res_id,
        method_type=http_method,
        authorization_type=props.get("AuthorizationType", "NONE"),
        api_key_required=_bool(props.get("ApiKeyRequired", False)),
        request_parameters=props.get("RequestParameters"),
        request_models=props.get("RequestModels"),
        operation_name=props.get("OperationName"),
        authorizer_id=props.get("AuthorizerId"),
        authorization_scopes=props.get("AuthorizationScopes"),
        request_validator_id=props.get("RequestValidatorId"),
    )
    for response in props.get("MethodResponses") or []:
        backend.put_method_response(
            api_id, res_id, http_method, str(response["StatusCode"]),
            response.get("ResponseModels"), response.get("ResponseParameters"))
    integration = props.get("Integration")
    if integration:
        backend.put_integration(
            function_id=api_id,
            resource_id=res_id,
            method_type=http_method,
            integration_type=integration["Type"],
            uri=integration.get("Uri", ""),
            integration_method=integration.get("IntegrationHttpMethod"),
            credentials=integration.get("Credentials"),
            request_templates=integration.get("RequestTemplates"),
            passthrough_behavior=integration.get("PassthroughBehavior"),
            cache_namespace=integration.get("CacheNamespace"),
            timeout_in_millis=integration.get("TimeoutInMillis"),
            request_parameters=integration.get("RequestParameters"),
            content_handling=integration.get("ContentHandling"),
            connection_type=integration.get("ConnectionType"),
        )
        for response in integration.get("IntegrationResponses") or []:
            backend.put_integration_response(
                api_id, res_id, http_method, str(response["StatusCode"]),
                response.get("SelectionPattern"), response.get("ResponseTemplates") or {},
                response.get("ResponseParameters"), response.get("ContentHandling"))
    method._cfn_location = (api_id, res_id, http_method)
    return method


def _method_update(cls, original_resource, new_resource_name, cloudformation_json, account_id,
                   region_name):
    # Re-put: CloudFormation's update replaces the method's whole definition.
    _method_delete(original_resource, account_id, region_name)
    return _method_create(cls, new_resource_name, cloudformation_json, account_id, region_name)


def _method_delete(self, account_id, region_name):
    location = getattr(self, "_cfn_location", None)
    if location is None:
        return
    try:
        _apigw_backend(account_id, region_name).delete_method(*location)
    except Exception:  # the REST API or resource is already gone, and the method with it
        log.debug("method %s already deleted", location)


def _rest_api_delete(self, account_id, region_name):
    # moto leaves the REST API behind when its stack is deleted. Deleting it spends from
    # the account's DeleteRestApi quota, as CloudFormation's own call does on AWS.
    from helpers.sandbox.quotas import QuotaExceeded, charge

    try:
        charge("apigateway", "DeleteRestApi", region_name)
    except QuotaExceeded as exc:
        raise _ResourceDeleteFailed(
            f"{exc.quota.message} (Service: ApiGateway, Status Code: {exc.quota.status}, "
            f"Error Code: {exc.quota.code})") from None
    _apigw_backend(account_id, region_name).apis.pop(self.id, None)


class _ResourceDeleteFailed(Exception):
    """A resource CloudFormation could not delete; the message is the event's reason."""


def _resource_delete(self, account_id, region_name):
    api = _apigw_backend(account_id, region_name).apis.get(self.api_id)
    if api is not None:
        api.resources.pop(self.id, None)


# ---------------------------------------------------------------- AWS::S3::Bucket
_BUCKET_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"


def website_xml(config: dict[str, Any]) -> bytes:
    """A CloudFormation ``WebsiteConfiguration`` as the XML body of PutBucketWebsite,
    which is what moto stores and returns from GetBucketWebsite."""
    parts = []
    if "RedirectAllRequestsTo" in config:
        redirect = config["RedirectAllRequestsTo"]
        parts.append("<RedirectAllRequestsTo>" + _xml_fields(redirect, ("HostName", "Protocol"))
                     + "</RedirectAllRequestsTo>")
    if "IndexDocument" in config:
        parts.append(f"<IndexDocument><Suffix>{escape(config['IndexDocument'])}</Suffix>"
                     "</IndexDocument>")
    if "ErrorDocument" in config:
        parts.append(f"<ErrorDocument><Key>{escape(config['ErrorDocument'])}</Key>"
                     "</ErrorDocument>")
    rules = config.get("RoutingRules") or []
    if rules:
        parts.append("<RoutingRules>")
        for rule in rules:
            parts.append("<RoutingRule>")
            if rule.get("RoutingRuleCondition"):
                parts.append("<Condition>" + _xml_fields(
                    rule["RoutingRuleCondition"],
                    ("HttpErrorCodeReturnedEquals", "KeyPrefixEquals")) + "</Condition>")
            parts.append("<Redirect>" + _xml_fields(
                rule["RedirectRule"],
                ("HostName", "HttpRedirectCode", "Protocol", "ReplaceKeyPrefixWith",
                 "ReplaceKeyWith")) + "</Redirect>")
            parts.append("</RoutingRule>")
        parts.append("</RoutingRules>")
    return (f'<WebsiteConfiguration xmlns="{_BUCKET_XMLNS}">' + "".join(parts)
            + "</WebsiteConfiguration>").encode()


def _xml_fields(values: dict[str, Any], order: tuple[str, ...]) -> str:
    return "".join(f"<{k}>{escape(str(values[k]))}</{k}>" for k in order if k in values)


def _apply_bucket_extras(bucket_name: str, props: dict[str, Any], account_id: str,
                         region_name: str) -> None:
    """Bucket properties moto's Bucket model does not apply."""
    backend = _s3_backend(account_id, region_name)
    if props.get("WebsiteConfiguration"):
        backend.put_bucket_website(bucket_name, website_xml(props["WebsiteConfiguration"]))
    else:
        backend.delete_bucket_website(bucket_name)
    block = props.get("PublicAccessBlockConfiguration")
    if block:
        backend.put_public_access_block(
            bucket_name, {k: _bool(v) for k, v in block.items()})
    rules = (props.get("OwnershipControls") or {}).get("Rules") or []
    if rules:
        backend.put_bucket_ownership_controls(bucket_name, rules[0]["ObjectOwnership"])


def _complete_bucket(bucket: Any, props: dict[str, Any], account_id: str,
                     region_name: str) -> None:
    _apply_bucket_extras(bucket.name, props, account_id, region_name)


# ---------------------------------------------------------------- other partial models
def _complete_function(fn: Any, props: dict[str, Any], account_id: str, region_name: str) -> None:
    """Lambda properties moto's CloudFormation model leaves out (tags, architecture, ...)."""
    fn.tags = _tags(props.get("Tags"))
    if "Architectures" in props:
        fn.architectures = props["Architectures"]
    if "EphemeralStorage" in props:
        fn.ephemeral_storage = int(props["EphemeralStorage"]["Size"])
    if "TracingConfig" in props:
        fn.tracing_config = props["TracingConfig"]
    # moto's update ignores a changed or removed reserved concurrency.
    fn.reserved_concurrency = props.get("ReservedConcurrentExecutions")


def _complete_rest_api(api: Any, props: dict[str, Any], account_id: str,
                       region_name: str) -> None:
    """CloudFormation spells EndpointConfiguration as ``Types``; the API model as ``types``."""
    config = props.get("EndpointConfiguration")
    if config:
        api.endpoint_configuration = {"types": list(config.get("Types") or ["EDGE"])}
        if config.get("VpcEndpointIds"):
            api.endpoint_configuration["vpcEndpointIds"] = list(config["VpcEndpointIds"])
    api.tags = _tags(props.get("Tags"))
    if "BinaryMediaTypes" in props:
        api.binaryMediaTypes = list(props["BinaryMediaTypes"])
    if "ApiKeySourceType" in props:
        api.api_key_source = props["ApiKeySourceType"]
    if "DisableExecuteApiEndpoint" in props:
        api.disableExecuteApiEndpoint = _bool(props["DisableExecuteApiEndpoint"])
    if "MinimumCompressionSize" in props:
        api.minimum_compression_size = int(props["MinimumCompressionSize"])
    if "Policy" in props:
        policy = props["Policy"]
        api.policy = policy if isinstance(policy, str) else json.dumps(policy)


def _complete_table(table: Any, props: dict[str, Any], account_id: str, region_name: str) -> None:
    """Point-in-time recovery is ignored by moto's Table model."""
    from moto.dynamodb.models import dynamodb_backends

    spec = props.get("PointInTimeRecoverySpecification")
    if spec:
        enabled = _bool(spec.get("PointInTimeRecoveryEnabled", False))
        dynamodb_backends[account_id][region_name].update_continuous_backups(
            table.name, {**spec, "PointInTimeRecoveryEnabled": enabled})


def _complete_event_source_mapping(esm: Any, props: dict[str, Any], account_id: str,
                                   region_name: str) -> None:
    # ListTags must return a map, not CloudFormation's list.
    esm.tags = _tags(props.get("Tags"))


def _complete_role(role: Any, properties: dict, account_id: str, region_name: str) -> None:
    for name, document in list(role.policies.items()):
        if not isinstance(document, str):
            role.policies[name] = json.dumps(document)


def _after(model_cls: str, complete: Any) -> tuple[tuple[str, Any], ...]:
    """Run ``complete(resource, properties, account, region)`` after moto's create and update
    of ``model_cls`` ("module:Class"): two declarations for :data:`PATCHES`."""

    def wrap_create(original: Any) -> Any:
        create = original.__func__

        def create_from_cloudformation_json(cls, resource_name, cloudformation_json,
                                            account_id, region_name, **kwargs):
            resource = create(cls, resource_name, cloudformation_json, account_id,
                              region_name, **kwargs)
            complete(resource, cloudformation_json.get("Properties") or {}, account_id,
                     region_name)
            return resource

        return classmethod(create_from_cloudformation_json)

    def wrap_update(original: Any) -> Any:
        update = original.__func__
        if getattr(update, "__isabstractmethod__", False):
            def update(cls, original_resource, *args):  # moto has no in-place update: keep it
                return original_resource

        def update_from_cloudformation_json(cls, original_resource, new_resource_name,
                                            cloudformation_json, account_id, region_name):
            resource = update(cls, original_resource, new_resource_name, cloudformation_json,
                              account_id, region_name)
            complete(resource, cloudformation_json.get("Properties") or {}, account_id,
                     region_name)
            return resource

        return classmethod(update_from_cloudformation_json)

    return ((f"{model_cls}.create_from_cloudformation_json", wrap_create),
            (f"{model_cls}.update_from_cloudformation_json", wrap_update))


def _replace_by(replacement: Any) -> Any:
    """A wrap that ignores moto's attribute: ``replacement`` takes its place."""
    return lambda original: replacement


# ---------------------------------------------------------------- moto patches
# Installed by helpers.sandbox.patches, the first time on the sandbox's first request or
# soon after its start: importing moto's CloudFormation models takes ~1 s.
_APIGW = "moto.apigateway.models"
_PARSING = "moto.cloudformation.parsing"
PATCHES = (
    # Ref to a Deployment must give its id (a Stage's DeploymentId), as on AWS.
    (f"{_APIGW}:Deployment.physical_resource_id",
     _replace_by(property(lambda self: self.id))),
    (f"{_APIGW}:Method.create_from_cloudformation_json",
     _replace_by(classmethod(_method_create))),
    (f"{_APIGW}:Method.update_from_cloudformation_json",
     _replace_by(classmethod(_method_update))),
    (f"{_APIGW}:Method.delete", _replace_by(_method_delete)),
    (f"{_APIGW}:RestAPI.delete", _replace_by(_rest_api_delete)),
    (f"{_APIGW}:Resource.delete", _replace_by(_resource_delete)),
    *_after("moto.s3.models:FakeBucket", _complete_bucket),
    *_after("moto.awslambda.models:LambdaFunction", _complete_function),
    *_after(f"{_APIGW}:RestAPI", _complete_rest_api),
    *_after("moto.dynamodb.models.table:Table", _complete_table),
    *_after("moto.awslambda.models:EventSourceMapping", _complete_event_source_mapping),
    *_after("moto.iam.models:Role", _complete_role),
    (f"{_PARSING}:parse_and_update_resource", lambda original: _keep_unupdatable(original)),
    ("moto.cloudformation.models:Stack.create_resources",
     lambda original: _rolled_back_on_failure(original)),
    (f"{_PARSING}:ResourceMap._delete_resource", lambda original: _gone_is_deleted(original)),
    (f"{_PARSING}:ResourceMap.update", lambda original: _conditions_follow_updates(original)),
    ("moto.cloudformation.models:CloudFormationBackend.delete_stack",
     lambda original: _delete_fails_the_stack(original)),
)


def after_patches() -> None:
    """moto's model registry is an lru_cache over CloudFormationModel.__subclasses__(): the
    classes of this module are subclasses, so forget any map built before they existed."""
    from moto.cloudformation import parsing

    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


def _conditions_follow_updates(update: Any) -> Any:
    """After moto's update, delete the resources whose Condition is now false and create
    those whose Condition became true, as CloudFormation does."""

    def wrapper(resource_map: Any, template: dict[str, Any],
                parameters: dict[str, Any] | None = None) -> None:
        update(resource_map, template, parameters)
        conditions = resource_map.lazy_condition_map
        for name, resource_json in list(resource_map._resource_json_map.items()):
            condition = resource_json.get("Condition")
            if condition is None:
                continue
            created = resource_map._parsed_resources.get(name)
            if not conditions[condition] and created is not None:
                if resource_json.get("DeletionPolicy") != "Retain":
                    resource_map._delete_resource(created, resource_json)
                del resource_map._parsed_resources[name]
            elif conditions[condition] and created is None:
                _ = resource_map[name]  # creates it

    return wrapper


def _delete_fails_the_stack(delete_stack: Any) -> Any:
    """A resource that cannot be deleted leaves the stack in DELETE_FAILED, with the
    resource's DELETE_FAILED event and reason, as on AWS; DeleteStack again retries the
    resources that are left. (moto let DeleteStack itself fail and dropped the stack.)"""

    def wrapper(backend: Any, name_or_stack_id: str) -> None:
        from moto.cloudformation.models import Event

        stack = backend.stacks.get(name_or_stack_id) or next(
            (s for s in backend.stacks.values() if s.name == name_or_stack_id), None)
        try:
            delete_stack(backend, name_or_stack_id)
        except Exception as exc:  # noqa: BLE001 - any resource failure fails the deletion
            if stack is None:
                raise
            failures = getattr(stack.resource_map, "sandbox_delete_failures", {})
            stack.resource_map.sandbox_delete_failures = {}
            for logical_id, (resource_type, reason) in failures.items():
                resource = stack.resource_map._parsed_resources.get(logical_id)
                stack.events.append(Event(
                    stack.stack_id, stack.name, logical_id,
                    getattr(resource, "physical_resource_id", "") or "", resource_type,
                    "DELETE_FAILED", reason, None))
            names = ", ".join(failures) or str(exc)
            stack.status = "DELETE_FAILED"
            stack._add_stack_event("DELETE_FAILED",
                                   f"The following resource(s) failed to delete: [{names}]. ")
            backend.stacks[stack.stack_id] = stack
            log.info("stack %s: DELETE_FAILED (%s)", stack.name, names)

    return wrapper


def _gone_is_deleted(delete_resource: Any) -> Any:
    """A resource deleted outside CloudFormation counts as deleted, as on AWS."""

    def wrapper(resource_map: Any, parsed_resource: Any, resource_json: Any) -> None:
        try:
            delete_resource(resource_map, parsed_resource, resource_json)
        except Exception as exc:
            code = f"{getattr(exc, 'error_type', '')} {getattr(exc, 'code', '')} " \
                   f"{type(exc).__name__}"
            if "NotFound" in code or "NoSuch" in code:
                log.info("%s was already gone; counted as deleted",
                         getattr(parsed_resource, "logical_resource_id", parsed_resource))
                return
            # Noted for the stack's DELETE_FAILED events (_delete_fails_the_stack).
            resource_map.sandbox_delete_failures = {
                **getattr(resource_map, "sandbox_delete_failures", {}),
                getattr(parsed_resource, "logical_resource_id", ""): (
                    resource_json.get("Type", ""), str(exc) or type(exc).__name__)}
            raise

    return wrapper


def _rolled_back_on_failure(create_resources: Any) -> Any:
    """A resource that fails to create fails the stack, which rolls back, as on AWS
    (OnFailure ROLLBACK, the default): CREATE_FAILED with the reason, the resources
    created so far deleted, status ROLLBACK_COMPLETE. CreateStack itself succeeds."""

    def wrapper(stack: Any) -> None:
        try:
            create_resources(stack)
        except Exception as exc:  # noqa: BLE001 - any failure of a resource fails the stack
            _roll_back(stack, exc)

    return wrapper


def _roll_back(stack: Any, exc: Exception) -> None:
    from moto.cloudformation.models import Event
    from moto.cloudformation.parsing import OutputMap

    resources = stack.resource_map
    template = resources._resource_json_map
    created = {lid: r for lid, r in resources._parsed_resources.items()
               if lid in template and isinstance(r, CloudFormationModel)}
    failed = next((lid for lid in template if lid not in created), stack.name)
    reason = getattr(exc, "message", None) or getattr(exc, "description", None) or str(exc)
    if not isinstance(reason, str) or not reason:
        reason = type(exc).__name__

    def event(logical_id: str, physical_id: str, resource_type: str, status: str,
              why: str | None = None) -> None:
        stack.events.append(Event(stack.stack_id, stack.name, logical_id, physical_id,
                                  resource_type, status, why, None))

    log.info("stack %s: %s failed to create (%s); rolling back", stack.name, failed, reason)
    event(failed, "", template.get(failed, {}).get("Type", ""), "CREATE_FAILED",
          f"Resource handler returned message: \"{reason}\"")
    stack._add_stack_event("ROLLBACK_IN_PROGRESS",
                           f"The following resource(s) failed to create: [{failed}]. "
                           "Rollback requested by user.")
    try:
        resources.delete()
    except Exception:  # noqa: BLE001 - what cannot be deleted stays, as DELETE_FAILED would
        log.warning("stack %s: rollback left resources behind", stack.name, exc_info=True)
    for logical_id, resource in created.items():
        event(logical_id, getattr(resource, "physical_resource_id", "") or "",
              template[logical_id].get("Type", ""), "DELETE_COMPLETE")
    # Nothing is left to describe: without this, moto would try to create the
    # resources again to answer DescribeStacks (outputs) or DescribeStackResources.
    resources._resource_json_map = {}
    stack.output_map = OutputMap(resources, {"Outputs": {}}, stack.stack_id)
    stack.status = "ROLLBACK_COMPLETE"
    stack._add_stack_event("ROLLBACK_COMPLETE")


def _keep_unupdatable(parse_and_update_resource: Any) -> Any:
    """moto replaces a changed resource whose type has no update handler with None, which
    breaks every later Ref to it; AWS updates it in place, so keep the existing one."""

    def wrapper(logical_id, resource_json, resources_map, account_id, region_name):
        updated = parse_and_update_resource(logical_id, resource_json, resources_map,
                                            account_id, region_name)
        if updated is None:
            return resources_map._parsed_resources.get(logical_id)
        return updated

    return wrapper
