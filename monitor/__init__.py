"""nianbao monitor: report extraction, parsing, rules, deadlines, pipeline and the command line."""
