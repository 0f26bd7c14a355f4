"""Timing helpers shared by the benchmark scripts."""

import time

#: Untimed steps after each pause, at least (see :func:`warm_up`).
MIN_WARMUP_STEPS = 10


def warm_up(step, seconds, min_steps=MIN_WARMUP_STEPS):
    """Call *step* until *seconds* have passed (wall clock) and it has run *min_steps* times.

    With two threads on a virtual machine the steps right after an idle pause run slower than a training loop's
    steady state: after 0.3 s of idling, the first 10-20 two-thread steps of the pooling and ResNet rows of
    ``layers.py`` took up to 1.6 times as long as the later ones (an idle core is slow to wake at first), about
    0.05 s of pooling steps and 0.25 s of ResNet steps. Warming up for 0.1 s and 10 steps at least before the
    clock starts times the steady state for both libraries.
    """
    end = time.perf_counter() + seconds
    done = 0
    while done < min_steps or time.perf_counter() < end:
        step()
        done += 1
