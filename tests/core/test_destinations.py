"""Where a webhook may be sent: the address rule, with a stub resolver (nothing is connected to)."""

import ipaddress

import pytest

from policies.domain import destinations
from tests.helpers.webhooks import stub_resolver

RESOLVER = stub_resolver(
    {
        "hooks.example.com": ["93.184.215.14"],
        "rebind.example.com": ["127.0.0.1"],
        "inside.example.com": ["10.0.0.1"],
        "metadata.example.com": ["169.254.169.254"],
        "mixed.example.com": ["93.184.215.14", "10.0.0.1"],
        "v6.example.com": ["2606:4700::6810:84e5"],
    }
)


def check(host, *, allow_private=False):
    return destinations.check_destination(host, 443, RESOLVER, allow_private=allow_private)


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("127.0.0.1", destinations.LOOPBACK),
        ("10.0.0.1", destinations.PRIVATE),
        ("169.254.169.254", destinations.METADATA),
        ("rebind.example.com", destinations.LOOPBACK),
        ("inside.example.com", destinations.PRIVATE),
        ("metadata.example.com", destinations.METADATA),
        ("mixed.example.com", destinations.PRIVATE),
        ("::1", destinations.LOOPBACK),
        ("::ffff:127.0.0.1", destinations.LOOPBACK),
        ("64:ff9b::a00:1", destinations.PRIVATE),
        ("fd00:ec2::254", destinations.METADATA),
        ("100.100.100.200", destinations.METADATA),
        ("169.254.1.1", destinations.LINK_LOCAL),
        ("fe80::1", destinations.LINK_LOCAL),
        ("0.0.0.0", destinations.UNSPECIFIED),
        ("224.0.0.1", destinations.MULTICAST),
        ("240.0.0.1", destinations.RESERVED),
        ("192.168.1.10", destinations.PRIVATE),
        ("172.16.0.1", destinations.PRIVATE),
        ("100.64.0.1", destinations.PRIVATE),
        ("fc00::1", destinations.PRIVATE),
    ],
)
def test_a_host_reaching_a_non_public_address_is_refused_in_production(host, kind):
    destination = check(host)
    assert not destination.allowed
    assert destination.refused[1] == kind


@pytest.mark.parametrize("host", ["hooks.example.com", "93.184.215.14", "v6.example.com"])
def test_a_host_reaching_only_public_addresses_is_allowed(host):
    destination = check(host)
    assert destination.allowed
    assert destination.refused is None


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.1", "rebind.example.com", "fe80::1", "192.168.1.10"])
def test_allow_private_lets_loopback_private_and_link_local_through(host):
    assert check(host, allow_private=True).allowed


@pytest.mark.parametrize(
    "host", ["169.254.169.254", "metadata.example.com", "fd00:ec2::254", "0.0.0.0", "224.0.0.1"]
)
def test_metadata_unspecified_and_multicast_are_refused_even_when_private_is_allowed(host):
    assert not check(host, allow_private=True).allowed


def test_a_name_that_does_not_resolve_is_refused_with_why():
    destination = check("nowhere.example.com")
    assert not destination.allowed
    assert "not known" in destination.unresolved


def test_a_literal_address_is_never_sent_to_the_resolver():
    resolver = stub_resolver({})
    destinations.check_destination("10.0.0.1", 80, resolver, allow_private=False)
    assert resolver.asked == []


def test_every_address_of_the_metadata_list_is_classified_as_metadata():
    for address in destinations.METADATA_ADDRESSES:
        assert destinations.classify(address) == destinations.METADATA
    assert destinations.classify(ipaddress.ip_address("8.8.8.8")) is None
