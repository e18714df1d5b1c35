"""The sample-log generator, by traffic family: ssh, web, flows (Zeek + Suricata); attacks and
scenarios as data tables; the writer apart. ``sample_logs/generate.py`` is the command line."""

from .attacks import ATTACKS, BENIGN, Attack
from .core import Generator
from .scenarios import SCENARIOS, Scenario
from .writer import OUTPUTS, build

__all__ = ["ATTACKS", "BENIGN", "OUTPUTS", "SCENARIOS", "Attack", "Generator", "Scenario", "build"]
