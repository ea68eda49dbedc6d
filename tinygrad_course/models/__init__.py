"""Whole models from the curriculum, one file each, built from nn layers.

    perceptron.py   Rosenblatt's perceptron (step activation, learning rule) and the MLP

Import them from their file, e.g. ``from tinygrad_course.models.perceptron import MLP``.
"""
