"""hookchain-ray: the ``ray`` executor of ``hookchain batch`` (``--executor ray``).

Registered with hookchain's ``register_executors`` hook; Ray itself is
imported only when a batch runs on it.
"""

from typing import Callable

import hookchain


@hookchain.hookimpl
def register_executors(register: Callable) -> None:
    from hookchain_ray.executor import RayExecutor

    register("ray", RayExecutor)
