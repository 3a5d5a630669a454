"""Integration-test harness for Switchyard.

Starts a throwaway PostgreSQL 15 cluster, optionally a Switchyard process in front of it, and
offers a raw wire-protocol client for the edge cases a driver will not produce.
"""
