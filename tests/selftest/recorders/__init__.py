"""Real HTTP recorders writing the HAR fixtures the traffic reader is tested on."""
