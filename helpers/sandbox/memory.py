"""What the sandbox process gives back once moto is loaded: memory is a room's limit.

moto's CloudFormation parser imports every service it can create resources of, EC2 among
them, and EC2's models parse two catalogues at import: every instance type and, per region
and zone, every instance-type offering (45 MB of Python objects, a fifth of an idle
sandbox). No call the workshop makes reads them (it runs no instance, and CloudFormation
only needs EC2's classes), so the sandbox empties both in place once its backends are
loaded: EC2's DescribeInstanceTypes and instance-type offerings then answer empty, and
running an instance is refused for an unknown type. glibc keeps freed memory in its
arenas unless asked, so it is asked to give it back (``malloc_trim``).

Measured with ``workshop bench`` (``memory_mb_one_participant``): the sandbox's PSS after
one participant through 3.3 went from 214 MB to about 170 MB.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import sys

log = logging.getLogger("helpers.sandbox.memory")


def release_catalogues_the_workshop_never_reads() -> None:
    """Empty moto's EC2 instance-type catalogues in place (every module that imported
    them holds the same objects), then return the freed memory to the system. Nothing is
    imported for it: where CloudFormation's models did not load EC2's, there is nothing."""
    instance_types = sys.modules.get("moto.ec2.models.instance_types")
    if instance_types is None:
        return
    instance_types.INSTANCE_TYPE_OFFERINGS.clear()
    instance_types.INSTANCE_TYPES.clear()
    gc.collect()
    give_back_freed_memory()


def give_back_freed_memory() -> None:
    """glibc's ``malloc_trim(0)``: freed heap pages go back to the system (a no-op where
    the C library is not glibc)."""
    name = ctypes.util.find_library("c")
    try:
        ctypes.CDLL(name).malloc_trim(0)
    except (OSError, AttributeError, TypeError):
        log.debug("malloc_trim is not available here (%s)", name)
