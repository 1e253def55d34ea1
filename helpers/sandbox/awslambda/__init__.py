"""Lambda in the sandbox: the runtime, its warm parent and execution environments.

``awslambda`` as in moto (``lambda`` is a keyword). ``lambda_worker.py`` and
``lambda_zygote.py`` keep their prefix: they run as scripts and are imported by that
name beside a function's own code, where a plain ``worker`` could shadow one of its modules.
"""
