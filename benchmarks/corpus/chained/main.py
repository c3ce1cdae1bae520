class ConfigError(Exception):
    pass


DEFAULTS = {"region": "eu"}


def setting(name, overrides):
    try:
        return overrides[name]
    except KeyError as err:
        raise ConfigError(f"setting {name!r} is not configured") from err


def deploy(overrides):
    region = setting("region", overrides)
    zone = setting("zone", overrides)
    return region, zone


print(deploy({"region": "us"}))
