"""Drives a Civitas Open311 endpoint with the georeport client library, as an app would.

georeport lists services, reads a service's definition and reads requests back; it has
no call to post one, so the report is posted with requests (the HTTP library georeport
itself uses), form-encoded as GeoReport v2 says. Prints what it saw as one JSON object.

usage: client.py ROOT JURISDICTION API_KEY FORMAT SERVICE_CODE LAT LONG
"""

import json
import sys

import requests
import xmltodict
from georeport import GeoReport


def main():
    root, jurisdiction, api_key, fmt, code, lat, long = sys.argv[1:8]
    client = GeoReport(root, jurisdiction=jurisdiction, api_key=api_key, output_format=fmt)

    services = client.get_service_list()
    if isinstance(services, dict):  # xmltodict: one <service> is a dict, not a list
        services = [services]
    definition = client.get_service_definition(code)
    attributes = definition["attributes"]
    if fmt == "xml":
        attributes = attributes["attribute"]
        if isinstance(attributes, dict):
            attributes = [attributes]

    form = {
        "jurisdiction_id": jurisdiction,
        "api_key": api_key,
        "service_code": code,
        "lat": lat,
        "long": long,
        "address_string": "Via dei Fori Imperiali 1",
        "description": "Buca profonda davanti alla fermata dell'autobus",
    }
    for a in attributes:
        if a["datatype"] == "number":
            form[f"attribute[{a['code']}]"] = "12"
        elif a["datatype"] == "singlevaluelist":
            values = a["values"]
            if fmt == "xml":
                values = values["value"]
                if isinstance(values, dict):
                    values = [values]
            form[f"attribute[{a['code']}]"] = values[0]["key"]
    posted = requests.post(f"{root}/requests.{fmt}", data=form)
    posted.raise_for_status()
    if fmt == "json":
        request_id = posted.json()[0]["service_request_id"]
    else:
        request_id = xmltodict.parse(posted.content)["service_requests"]["request"][
            "service_request_id"
        ]

    back = client.get_service_request(request_id)
    listed = client.get_service_requests(service_request_id=request_id)
    if isinstance(listed, dict):
        listed = [listed]
    print(
        json.dumps(
            {
                "services": sorted(s["service_code"] for s in services),
                "attributes": sorted(a["code"] for a in attributes),
                "posted": request_id,
                "read": back,
                "listed": [r["service_request_id"] for r in listed],
            }
        )
    )


if __name__ == "__main__":
    main()
