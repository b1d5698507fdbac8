-- AlterTable
ALTER TABLE "Job" ADD COLUMN "layers" TEXT;
ALTER TABLE "Job" ADD COLUMN "size" INTEGER;

-- Jobs accepted before: their layers and size, from their options (written with every option filled in).
UPDATE "Job" SET "layers" = json_extract("options", '$.layers'), "size" = json_extract("options", '$.size')
WHERE json_valid("options");

-- AlterTable
ALTER TABLE "Worker" ADD COLUMN "backend" TEXT;
ALTER TABLE "Worker" ADD COLUMN "device" TEXT;
ALTER TABLE "Worker" ADD COLUMN "capability" TEXT;
ALTER TABLE "Worker" ADD COLUMN "problem" TEXT;
