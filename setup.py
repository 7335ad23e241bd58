"""Only what pyproject.toml cannot say: the wheel carries the samples' data, not the scripts that
rebuild them from the seeds (samples/build_samples.py, samples/seed_data.py need the repository)."""

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithoutSampleScripts(build_py):
    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        return [m for m in modules if m[0] != "xltool.samples"]


setup(cmdclass={"build_py": BuildWithoutSampleScripts})
