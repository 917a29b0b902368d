"""The process's resident memory (Linux /proc), as Tools/Bench/ProcessMemory.cs reads it on the .NET side, so both
sides of a benchmark report peak memory the same way. Importing it has no side effects."""


def rss_bytes(field):
    """A /proc/self/status field in bytes: VmRSS (resident now) or VmHWM (peak since start or the last reset)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def reset_peak_rss():
    """Resets VmHWM to the current resident set (writes 5 to /proc/self/clear_refs); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False
