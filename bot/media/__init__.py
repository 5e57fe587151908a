"""Attachments: pictures (Pillow), video (PyAV), the media store on disk and the optimised copies of videos.

Import the submodules themselves; this package loads nothing, so a platform importing `bot.media.names`
or `bot.media.video` pulls in neither Pillow nor the database."""
