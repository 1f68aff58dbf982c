"""Compiles the translation catalogs (consent/locale/*/LC_MESSAGES/messages.po) into the .mo
files gettext reads, when a wheel is built or the project is installed in place: the .mo files
are build output, not committed (docs/i18n.md)."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogs(build_py):
    def run(self) -> None:
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in sorted(Path("consent/locale").glob("*/LC_MESSAGES/messages.po")):
            mo = po.with_suffix(".mo") if self.editable_mode else Path(self.build_lib) / po.with_suffix(".mo")
            mo.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as source:
                catalog = read_po(source)
            with mo.open("wb") as target:
                write_mo(target, catalog)


setup(cmdclass={"build_py": BuildWithCatalogs})
