#!/usr/bin/env python3
"""Renders every template of the Home Assistant package against a running bridge.

  ha_templates.py PACKAGE.yaml BASE_URL DTU_NAME

Each `rest:` resource is fetched from BASE_URL (the package's host, serial and DTU
placeholders swapped for the live bridge's), and every value_template is rendered
with Jinja2 as Home Assistant does (value_json = the answer). Numeric sensors must
yield a number, energy sensors be kWh / total_increasing and equal the API's totals,
binary sensors True or False. Exit code 1 with the reasons otherwise.
"""
import json
import re
import sys
import urllib.request

import jinja2
import yaml

package, base, dtu = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3]
doc = yaml.safe_load(open(package))
inverters = json.load(urllib.request.urlopen(base + "/api/inverters"))
serial = inverters[0]["serial_number"]
env = jinja2.Environment(undefined=jinja2.StrictUndefined)
failures, rendered = [], 0


def fetch(resource):
    url = re.sub(r"^https?://[^/]+", base, resource) if "://" in resource else base + resource
    url = re.sub(r"/api/inverters/[0-9A-Fa-f]{12}", "/api/inverters/" + serial, url)
    return json.load(urllib.request.urlopen(url))


for rest in doc["rest"]:
    value_json = fetch(rest["resource"])
    for kind in ("sensor", "binary_sensor"):
        for s in rest.get(kind, []):
            template = s["value_template"].replace("['DTU']", "['%s']" % dtu)
            try:
                out = env.from_string(template).render(value_json=value_json).strip()
            except Exception as e:  # an undefined field, a bad filter
                failures.append("%s: %s" % (s["name"], e))
                continue
            rendered += 1
            print("%-45s %s" % (s["name"], out))
            if kind == "binary_sensor":
                if out not in ("True", "False"):
                    failures.append("%s: %r is not True/False" % (s["name"], out))
                continue
            numeric = "unit_of_measurement" in s or "state_class" in s
            if numeric:
                try:
                    value = float(out)
                except ValueError:
                    failures.append("%s: %r is not a number" % (s["name"], out))
                    continue
                if s.get("device_class") == "energy":
                    if s.get("unit_of_measurement") != "kWh" or s.get("state_class") != "total_increasing":
                        failures.append("%s: energy needs kWh and total_increasing" % s["name"])
                    if value < 0:
                        failures.append("%s: negative energy" % s["name"])
            elif not out or out == "None":
                failures.append("%s: empty state" % s["name"])

summary = fetch("/api/production/summary")
by_name = {}
for rest in doc["rest"]:
    for s in rest.get("sensor", []):
        by_name[s["name"]] = (rest, s)
rest, s = by_name["Solar energy total"]
try:
    if float(env.from_string(s["value_template"]).render(value_json=summary)) != summary["total_kwh"]:
        failures.append("Solar energy total differs from /api/production/summary")
except Exception as e:
    failures.append("Solar energy total: %s" % e)
if summary["total_kwh"] <= 0:
    failures.append("the bridge reports no energy yet; the check proves nothing")
print("%d templates rendered" % rendered)
if failures:
    print("\n".join("FAIL: " + f for f in failures))
    sys.exit(1)
