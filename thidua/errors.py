"""Named exceptions of the domain core; the CLI turns them into one-line errors."""


class ThiduaError(Exception):
    "Base class of thidua's own errors"


class ConfigError(ThiduaError):
    "A config file is broken; carries one message per problem, each naming file, line, field"

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class UnknownUnit(ThiduaError):
    "No unit with that code in the registry"


class UnknownCycle(ThiduaError):
    "No reporting cycle with that id"


class UnkeyedValues(ThiduaError):
    "Submission values written without their submission's sk, which rollups join on"
