-- AlterTable
ALTER TABLE "Job" ADD COLUMN "layers" TEXT,
ADD COLUMN "size" INTEGER;

-- Jobs accepted before: their layers and size, from their options (written with every option filled in).
UPDATE "Job" SET "layers" = "options"::jsonb ->> 'layers', "size" = ("options"::jsonb ->> 'size')::integer;

-- AlterTable
ALTER TABLE "Worker" ADD COLUMN "backend" TEXT,
ADD COLUMN "device" TEXT,
ADD COLUMN "capability" TEXT,
ADD COLUMN "problem" TEXT;
