"""Printable documents (PDF): retirement certificates and label code sheets, in Chinese and English.

Chinese text uses reportlab's built-in CID font STSong-Light (Adobe-GB1): nothing to download, and any PDF viewer
renders it. QR codes are drawn with reportlab's own QR widget as vector graphics.
"""
