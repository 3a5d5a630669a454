"""A throwaway certificate authority built with the openssl CLI.

Certificates use P-256 keys because they are generated in milliseconds, which keeps every test
class free to make its own.
"""

import os
import subprocess
from dataclasses import dataclass


@dataclass
class KeyPair:
    cert: str
    key: str


def _openssl(*args, cwd):
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=30)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {proc.stderr}")


class CertAuthority:
    """A CA in directory `directory` that issues server certificates with chosen names."""

    def __init__(self, directory: str, name: str = "Switchyard Test CA"):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self.cert = os.path.join(directory, "ca.crt")
        self.key = os.path.join(directory, "ca.key")
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-keyout", self.key, "-out", self.cert, "-days", "2",
                 "-subj", f"/CN={name}",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)
        self._serial = 1

    def issue_server(self, name: str, common_name: str = "localhost",
                     dns_names=("localhost",), ip_addresses=("127.0.0.1",)) -> KeyPair:
        """Issues `<name>.crt`/`<name>.key` for a server known by the given names.

        Passing other names than the ones a client connects to yields the "wrong host name"
        certificate that verify-full must refuse.
        """
        crt = os.path.join(self.directory, f"{name}.crt")
        key = os.path.join(self.directory, f"{name}.key")
        csr = os.path.join(self.directory, f"{name}.csr")
        ext = os.path.join(self.directory, f"{name}.ext")
        sans = [f"DNS:{d}" for d in dns_names] + [f"IP:{ip}" for ip in ip_addresses]
        with open(ext, "w") as f:
            if sans:
                f.write("subjectAltName=" + ",".join(sans) + "\n")
            f.write("basicConstraints=CA:FALSE\n")
            f.write("keyUsage=critical,digitalSignature,keyEncipherment\n")
            f.write("extendedKeyUsage=serverAuth\n")
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", key, "-out", csr, "-subj", f"/CN={common_name}",
                 cwd=self.directory)
        self._serial += 1
        _openssl("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
                 "-set_serial", str(self._serial), "-out", crt, "-days", "2",
                 "-extfile", ext, cwd=self.directory)
        os.chmod(key, 0o600)
        return KeyPair(cert=crt, key=key)
